"""The indicator charts are self-contained, accessible SVG that say their numbers and escape all text."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from smart_app.plan.charts import bar_pair_chart, goal_progress_chart, hospital_use_chart, number_text
from smart_app.plan.indicators import GoalPoint, GoalProgress, HospitalUseRates
from smart_app.plan.model import Achievement, GoalLifecycle
from tests.support import assert_bidi_contained

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def assert_self_contained(root: ET.Element) -> None:
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}image"))
    assert all("href" not in name for element in root.iter() for name in element.attrib)


RATES = HospitalUseRates(
    ed_before=4, admissions_before=2, ed_since=1, admissions_since=0, before_days=365, since_days=365
)


def test_the_hospital_use_chart_says_each_number_before_and_since():
    root = parsed(hospital_use_chart(RATES))
    assert_self_contained(root)
    label = root.get("aria-label")
    assert "ED visits per 12 months: 4 before the plan, 1 since the plan." in label
    assert "Admissions per 12 months: 2 before the plan, 0 since the plan." in label
    assert {"4", "1", "2", "0"} <= set(texts(root))
    assert len(root.findall(f"{SVG}rect")) == 2 + 4  # the legend's two swatches and four bars


def test_the_taller_bar_is_the_larger_number():
    root = parsed(hospital_use_chart(RATES))
    bars = {
        r.find(f"{SVG}title").text: float(r.get("height"))
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    }
    assert (
        bars["ED visits per 12 months, before the plan: 4"]
        > bars["ED visits per 12 months, since the plan: 1"]
    )
    assert bars["Admissions per 12 months, since the plan: 0"] == 0


def test_a_rate_not_known_yet_is_said_in_words():
    rates = HospitalUseRates(1, 0, 0, 0, before_days=365, since_days=0)
    assert "0 since the plan" not in parsed(hospital_use_chart(rates)).get("aria-label")
    assert "not known yet since the plan" in parsed(hospital_use_chart(rates)).get("aria-label")


def test_chart_text_is_escaped():
    svg = bar_pair_chart(HOSTILE, [(HOSTILE, 1.5, 2.0)])
    root = parsed(svg)
    assert "<script>" not in svg
    assert root.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE in texts(root)


def test_numbers_are_written_plainly():
    assert [number_text(v) for v in (3.0, 1.46, 0, None)] == ["3", "1.5", "0", "not known yet"]


def progress(*points: tuple[str, Achievement], text="Walk with a walker") -> GoalProgress:
    return GoalProgress(
        "g1",
        text,
        tuple(
            GoalPoint(
                datetime.fromisoformat(day).replace(tzinfo=UTC),
                n,
                achievement,
                GoalLifecycle.COMPLETED if achievement is Achievement.ACHIEVED else GoalLifecycle.ACTIVE,
            )
            for n, (day, achievement) in enumerate(points, 1)
        ),
    )


def test_the_goal_chart_has_a_dated_dot_per_change_rising_with_achievement():
    root = parsed(
        goal_progress_chart(
            progress(
                ("2025-01-01", Achievement.IN_PROGRESS),
                ("2025-04-01", Achievement.IMPROVING),
                ("2025-07-01", Achievement.ACHIEVED),
            )
        )
    )
    assert_self_contained(root)
    dots = list(root.iter(f"{SVG}circle"))
    heights = [float(d.get("cy")) for d in dots]
    assert len(dots) == 3 and heights == sorted(heights, reverse=True)  # SVG y grows downwards
    assert {"2025-01-01", "2025-04-01", "2025-07-01"} <= set(texts(root))
    assert root.get("aria-label") == (
        "Progress on the goal: Walk with a walker. in progress on 2025-01-01; improving on 2025-04-01; "
        "achieved on 2025-07-01 (goal completed)."
    )


def test_a_goal_without_progress_still_renders_and_says_so():
    root = parsed(goal_progress_chart(progress(text=HOSTILE)))
    assert not list(root.iter(f"{SVG}circle"))
    assert root.get("aria-label").endswith("No progress recorded yet.")
    assert HOSTILE in root.find(f"{SVG}title").text


def test_a_bidi_override_in_the_goal_does_not_reorder_the_chart_words_after_it():
    svg = goal_progress_chart(progress(("2025-01-01", Achievement.IMPROVING), text="Holiday \u202egnp.exe"))
    assert_bidi_contained(svg, "goal chart")
    root = parsed(svg)
    assert root.find(f"{SVG}title").text == "Progress on the goal: \u2068Holiday \u202egnp.exe\u202c\u2069"
    assert root.get("aria-label").startswith("Progress on the goal: \u2068Holiday \u202egnp.exe\u202c\u2069. ")
