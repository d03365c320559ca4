"""View-models of the About us, emergency and consent pages: strings and tuples, already formatted.

Layer: HTTP in (views). Pure functions from plan values to view types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..plan import about as a
from ..plan import i18n

@dataclass(frozen=True, slots=True)
class AnswerRow:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class AnswerSection:
    title: str
    rows: tuple[AnswerRow, ...]


@dataclass(frozen=True, slots=True)
class ConsentRow:
    entry_id: str
    recipient: str
    role: str
    period: str
    given: str  # "Ana Rivera, 3 March 2026"
    in_force: bool


@dataclass(frozen=True, slots=True)
class AboutPage:
    intake_version: int
    saved_line: str  # "Version 2, saved 3 March 2026 by Jordan Lee"
    sections: tuple[AnswerSection, ...]
    emergency_version: int
    consent: tuple[ConsentRow, ...]


def about_page(intake: a.IntakeVersion | None, emergency_version: int, consent: Sequence[a.ConsentEntry],
               today: date) -> AboutPage:
    answers = intake.answers if intake else a.IntakeAnswers()
    sections = tuple(
        AnswerSection(section.title, tuple(AnswerRow(q.text, a.answer_display(q.link_id, answers.get(q.link_id)))
                                           for q in section.questions if answers.get(q.link_id)))
        for section in a.INTAKE)
    saved = (f"Version {intake.version}, saved {i18n.format_date(intake.saved_at.date(), 'en')} by {intake.saved_by}"
             if intake else "")
    return AboutPage(intake_version=intake.version if intake else 0, saved_line=saved,
                     sections=tuple(sec for sec in sections if sec.rows), emergency_version=emergency_version,
                     consent=consent_rows(consent, today))


def consent_rows(consent: Sequence[a.ConsentEntry], today: date) -> tuple[ConsentRow, ...]:
    def period(entry: a.ConsentEntry) -> str:
        start = i18n.format_date(entry.start, "en") or "now"
        return f"{start} to {i18n.format_date(entry.end, 'en') or 'until withdrawn'}"

    return tuple(ConsentRow(entry_id=e.entry_id, recipient=e.recipient, role=e.role, period=period(e),
                            given=f"{e.consented_by}, {i18n.format_date(e.consented_on, 'en')}",
                            in_force=e.in_force(today)) for e in consent)


def team_choices(team: Mapping[str, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(reference, "Name · role") for the consent form's picker."""
    return tuple((ref, " · ".join(p for p in pair if p)) for ref, pair in team.items())


@dataclass(frozen=True, slots=True)
class FieldView:
    link_id: str
    label: str
    hint: str
    kind: str  # text | string | choice | boolean
    value: str
    choices: tuple[tuple[str, str], ...]  # (code, label)


@dataclass(frozen=True, slots=True)
class FieldsetView:
    link_id: str
    title: str
    fields: tuple[FieldView, ...]


@dataclass(frozen=True, slots=True)
class IntakeForm:
    base_version: int
    fieldsets: tuple[FieldsetView, ...]


def intake_form_view(intake: a.IntakeVersion | None) -> IntakeForm:
    answers = intake.answers if intake else a.IntakeAnswers()
    return IntakeForm(
        base_version=intake.version if intake else 0,
        fieldsets=tuple(FieldsetView(section.link_id, section.title, tuple(
            FieldView(q.link_id, q.text, q.hint, q.kind.value, answers.get(q.link_id),
                      tuple((c.code, c.display) for c in q.choices)) for q in section.questions))
            for section in a.INTAKE))
