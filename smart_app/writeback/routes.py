"""Write-back: file the signed plan in the EHR and show the outcome.

Layer: HTTP in (views). Parse, call, render.
"""

from __future__ import annotations

from ..web import launch_blueprint

bp = launch_blueprint("writeback", __name__)
