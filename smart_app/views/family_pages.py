"""The family's own pages: their plan, in their language, and what they do about it (issue 18).

Layer: HTTP in (Flask). Every page is bound to a family launch (web.launch_blueprint(family=True)):
a professional launch never reaches them, and a family launch reaches nothing else.
"""

from __future__ import annotations

from flask import render_template

from ..web import current_launch, launch_blueprint

bp = launch_blueprint("family", __name__, family=True)


@bp.get("/")
def show():
    launch = current_launch()
    return render_template("family/show.html", launch=launch)
