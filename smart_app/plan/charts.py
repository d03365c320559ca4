"""Small server-rendered SVG charts for the indicators: hospital use before and since the plan, and
a goal's achievement over time.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

Each chart is a string of inline SVG: no scripts, no remote assets, every text escaped. Each is an
image with a `<title>` and an `aria-label` that says the numbers, and shows the numbers as text too,
so nobody has to read a value off a bar or tell colours apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from smart_app.plan.indicators import GoalProgress, HospitalUseRates
from smart_app.plan.model import Achievement, GoalLifecycle
from smart_app.plan.text import isolated

SVG_NS = "http://www.w3.org/2000/svg"
BEFORE_COLOUR = "#6b7280"
SINCE_COLOUR = "#1d4ed8"
LINE_COLOUR = "#1d4ed8"
TEXT_COLOUR = "#111827"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'

# Bottom to top: the order a reader expects "better" to go up.
ACHIEVEMENT_LEVELS: tuple[Achievement, ...] = (
    Achievement.NOT_ACHIEVED,
    Achievement.WORSENING,
    Achievement.NO_CHANGE,
    Achievement.IN_PROGRESS,
    Achievement.IMPROVING,
    Achievement.ACHIEVED,
)
ACHIEVEMENT_WORDS = {
    Achievement.NOT_ACHIEVED: "not achieved",
    Achievement.WORSENING: "worsening",
    Achievement.NO_CHANGE: "no change",
    Achievement.IN_PROGRESS: "in progress",
    Achievement.IMPROVING: "improving",
    Achievement.ACHIEVED: "achieved",
}

Bar = tuple[str, float | None, float | None]  # a group's label, its "before" value and its "since" value


def number_text(value: float | None) -> str:
    """3, 1.5, or "not known yet" for a rate whose window has not started."""
    if value is None:
        return "not known yet"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, title: str, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(label)}" {FONT}>'
        f"<title>{_e(title)}</title><desc>{_e(label)}</desc>{''.join(body)}</svg>"
    )


# ---------------------------------------------------------------------------------------------------
# Before vs since: pairs of bars
# ---------------------------------------------------------------------------------------------------


def bar_pair_chart(
    title: str,
    groups: Sequence[Bar],
    *,
    before_label: str = "Before the plan",
    since_label: str = "Since the plan",
    unit: str = "per 12 months",
) -> str:
    """Pairs of bars, one pair per group ("ED visits", "Admissions"), each value written above its bar."""
    bar, gap, group_gap, left, top, plot_height = 36, 6, 40, 16, 48, 120
    width = max(left * 2 + len(groups) * (2 * bar + gap + group_gap), 280)
    height = top + plot_height + 44
    highest = max([v for _, *values in groups for v in values if v is not None] + [1.0])
    baseline = top + plot_height
    body = [_legend(before_label, since_label, left)]
    for n, (name, before, since) in enumerate(groups):
        x = left + n * (2 * bar + gap + group_gap)
        for offset, value, colour, when in (
            (0, before, BEFORE_COLOUR, before_label),
            (bar + gap, since, SINCE_COLOUR, since_label),
        ):
            size = 0 if value is None else round(plot_height * value / highest)
            words = f"{name} {unit}, {when.lower()}: {number_text(value)}"
            body.append(
                f'<rect x="{x + offset}" y="{baseline - size}" width="{bar}" height="{size}" fill="{colour}">'
                f"<title>{_e(words)}</title></rect>"
                f'<text x="{x + offset + bar // 2}" y="{baseline - size - 4}" text-anchor="middle" '
                f'fill="{TEXT_COLOUR}">{_e("–" if value is None else number_text(value))}</text>'
            )  # a short dash under the bar's own title: "not known yet" would overlap the next bar
        body.append(
            f'<text x="{x + bar + gap // 2}" y="{baseline + 16}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">{_e(name)}</text>'
        )
    body.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width - left}" y2="{baseline}" stroke="{TEXT_COLOUR}"/>'
    )
    body.append(f'<text x="{left}" y="{height - 8}" fill="{TEXT_COLOUR}">{_e(unit.capitalize())}</text>')
    label = f"{title}. " + " ".join(
        f"{name} {unit}: {number_text(before)} {before_label.lower()}, {number_text(since)} {since_label.lower()}."
        for name, before, since in groups
    )
    return _svg(width, height, title, label, body)


def _legend(before_label: str, since_label: str, left: int) -> str:
    return (
        f'<rect x="{left}" y="8" width="12" height="12" fill="{BEFORE_COLOUR}"/>'
        f'<text x="{left + 16}" y="18" fill="{TEXT_COLOUR}">{_e(before_label)}</text>'
        f'<rect x="{left + 130}" y="8" width="12" height="12" fill="{SINCE_COLOUR}"/>'
        f'<text x="{left + 146}" y="18" fill="{TEXT_COLOUR}">{_e(since_label)}</text>'
    )


def hospital_use_chart(
    rates: HospitalUseRates, *, title: str = "Hospital use before and since the plan"
) -> str:
    """ED visits and admissions per 12 months, before the plan and since."""
    return bar_pair_chart(
        title,
        (
            ("ED visits", rates.ed_per_12m_before, rates.ed_per_12m_since),
            ("Admissions", rates.admissions_per_12m_before, rates.admissions_per_12m_since),
        ),
    )


# ---------------------------------------------------------------------------------------------------
# A goal over time: dots joined by steps
# ---------------------------------------------------------------------------------------------------


def goal_progress_chart(progress: GoalProgress) -> str:
    """The goal's achievement at each change, as dots on a step line, each dot dated underneath."""
    left, top, step_x, step_y = 96, 16, 96, 22
    count = max(len(progress.points), 1)
    width = left + step_x * count + 16
    height = top + step_y * len(ACHIEVEMENT_LEVELS) + 36
    baseline = top + step_y * (len(ACHIEVEMENT_LEVELS) - 1)

    def y_of(achievement: Achievement) -> int:
        level = ACHIEVEMENT_LEVELS.index(achievement) if achievement in ACHIEVEMENT_LEVELS else 0
        return baseline - level * step_y

    body = [
        f'<text x="{left - 8}" y="{y_of(level) + 4}" text-anchor="end" fill="{TEXT_COLOUR}">'
        f"{_e(ACHIEVEMENT_WORDS[level])}</text>"
        f'<line x1="{left}" y1="{y_of(level)}" x2="{width - 8}" y2="{y_of(level)}" stroke="#e5e7eb"/>'
        for level in ACHIEVEMENT_LEVELS
    ]
    spots = [(left + step_x // 2 + n * step_x, y_of(p.achievement), p) for n, p in enumerate(progress.points)]
    if spots:
        path = f"M {spots[0][0]} {spots[0][1]}" + "".join(f" H {x} V {y}" for x, y, _ in spots[1:])
        body.append(f'<path d="{path}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
    for x, y, point in spots:
        words = _point_words(point.achievement, point.lifecycle, point.at.date().isoformat())
        body.append(
            f'<circle cx="{x}" cy="{y}" r="5" fill="{LINE_COLOUR}"><title>{_e(words)}</title></circle>'
            f'<text x="{x}" y="{height - 12}" text-anchor="middle" fill="{TEXT_COLOUR}">'
            f"{_e(point.at.date().isoformat())}</text>"
        )
    title = f"Progress on the goal: {isolated(progress.text)}"
    said = "; ".join(
        _point_words(p.achievement, p.lifecycle, p.at.date().isoformat()) for p in progress.points
    )
    label = f"{title}. {said or 'No progress recorded yet'}."
    return _svg(width, height, title, label, body)


def _point_words(achievement: Achievement, lifecycle: GoalLifecycle, on: str) -> str:
    words = f"{ACHIEVEMENT_WORDS.get(achievement, str(achievement))} on {on}"
    if lifecycle in (GoalLifecycle.COMPLETED, GoalLifecycle.CANCELLED, GoalLifecycle.ON_HOLD):
        words += f" (goal {lifecycle.value.replace('-', ' ')})"
    return words
