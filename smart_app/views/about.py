"""About us, emergency and legal information, release-of-information consent.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from ..web import launch_blueprint

bp = launch_blueprint("about", __name__)
