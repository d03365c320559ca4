"""Pages that need no launch: the landing page and a health check.

Layer: HTTP in (Flask).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from ..web import app_state

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    return render_template("home/index.html", tenants=list(app_state().tenants))


@bp.get("/healthz")
def health():
    """Liveness and store reachability for load balancers; no PHI."""
    with app_state().engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return jsonify(status="ok")
