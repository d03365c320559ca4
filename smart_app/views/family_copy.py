"""The family's portable copy: print view and PDF.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from ..web import launch_blueprint

bp = launch_blueprint("family_copy", __name__)
