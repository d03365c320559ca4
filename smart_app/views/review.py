"""Goals and negotiated actions: the editor, the side-by-side review, sign-off, history.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from ..web import launch_blueprint

bp = launch_blueprint("review", __name__)
