"""The living document: review cycle, what changed, who owes what, indicators.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from ..web import launch_blueprint

bp = launch_blueprint("tracking", __name__)
