"""View-models of the family's page: what the family sees, already in their language. No FHIR, no
professional-only fields (curation reasons, internal notes, draft wording are never copied here).

Layer: views (pure functions over services' values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..plan import about as a
from ..plan import i18n
from ..plan.family import FamilyRequest, RequestKind, RequestStatus, by_family_member, change_label, family_position
from ..plan.model import ActionStatus, Plan, Position, Stance
from ..services.family import FamilyPage, statuses_of

_ANSWER_KEYS = {Stance.AGREE: "you_agreed", Stance.AMEND: "you_asked_change", Stance.DECLINE: "you_disagreed"}
_REQUEST_STATUS_KEYS = {RequestStatus.OPEN: "waiting", RequestStatus.ANSWERED: "answered",
                        RequestStatus.ACCEPTED: "accepted", RequestStatus.DECLINED: "declined"}


@dataclass(frozen=True, slots=True)
class Answer:
    """The family's answer on one goal or action, as it stands."""

    stance: str
    label: str  # "You agreed"
    words: str  # their proposed wording or reason
    by: str
    at: str
    recorded_by: str  # the coordinator, when they recorded it in clinic; "" when the family answered here


@dataclass(frozen=True, slots=True)
class ActionRow:
    action_id: str
    text: str
    owner: str
    due: str
    status: str
    status_label: str
    family_owned: bool
    answer: Answer | None
    help: tuple[FamilyRequest, ...]  # their "need help" requests on it


@dataclass(frozen=True, slots=True)
class GoalRow:
    goal_id: str
    text: str
    kind_label: str
    expressed_by: str
    target: str
    answer: Answer | None
    actions: tuple[ActionRow, ...]


@dataclass(frozen=True, slots=True)
class RequestRow:
    text: str
    subject: str  # the About us question's label, or ""
    by: str
    at: str
    status: str
    status_label: str
    reply: str


@dataclass(frozen=True, slots=True)
class FamilyView:
    lang: str
    words: Mapping[str, str]  # plan.i18n.family_labels
    copy: a.FamilyCopy | None
    person: str
    base_version: int | None
    changes: tuple[tuple[str, str], ...] | None  # (label, item text); None on a first visit
    goals: tuple[GoalRow, ...]
    other_actions: tuple[ActionRow, ...]
    questions: tuple[RequestRow, ...]
    proposals: tuple[RequestRow, ...]
    about_choices: tuple[tuple[str, str], ...]  # (link id, label) the family may propose new words for
    access_rule: str  # which rule lets this person see the plan, in their language ("" when none applies)
    sent: str  # the thank-you line after an act


def family_view(page: FamilyPage, *, lang: str, person: str, access_rule: str = "", sent: str = "") -> FamilyView:
    words = i18n.family_labels(lang)
    current = page.current.plan if page.current else None
    statuses = statuses_of(page.current)
    help_requests = [r for r in page.requests if r.kind is RequestKind.NEED_HELP]

    def action_row(action: a.CopyAction) -> ActionRow:
        status = statuses.get(action.action_id, ActionStatus.NOT_STARTED)
        return ActionRow(
            action_id=action.action_id, text=action.text, owner=action.owner, due=action.due, status=status.value,
            status_label=words[f"status_{status.value}"], family_owned=action.family_owned,
            answer=_answer(current, action.action_id, words, lang),
            help=tuple(r for r in help_requests if r.subject_id == action.action_id))

    copy = page.copy
    goals = tuple(
        GoalRow(goal_id=g.goal_id, text=g.text, kind_label=g.kind_label, expressed_by=g.expressed_by,
                target=g.target, answer=_answer(current, g.goal_id, words, lang),
                actions=tuple(action_row(x) for x in g.actions))
        for g in (copy.goals if copy else ()))
    changes = None if page.changes is None else tuple((change_label(c.kind, lang), c.text) for c in page.changes)
    return FamilyView(
        lang=lang, words=words, copy=copy, person=person, base_version=page.base_version, changes=changes,
        goals=goals, other_actions=tuple(action_row(x) for x in (copy.other_actions if copy else ())),
        questions=_rows(page.requests, RequestKind.QUESTION, words, lang),
        proposals=_rows(page.requests, RequestKind.ABOUT_CHANGE, words, lang),
        about_choices=tuple((k, i18n.about_label(k, lang, k)) for k in a.ABOUT_US_ITEMS),
        access_rule=access_rule, sent=words.get(f"sent_{sent}", "") if sent else "")


def _answer(plan: Plan | None, subject_id: str, words: Mapping[str, str], lang: str) -> Answer | None:
    position: Position | None = family_position(plan, subject_id) if plan else None
    if position is None or position.stance not in _ANSWER_KEYS:
        return None
    own = by_family_member(position)
    return Answer(stance=position.stance.value, label=words[_ANSWER_KEYS[position.stance]],
                  words=position.proposed_change or position.reason, by=position.by, at=when(position.at, lang),
                  recorded_by="" if own else position.by)


def _rows(requests: Sequence[FamilyRequest], kind: RequestKind, words: Mapping[str, str], lang: str
          ) -> tuple[RequestRow, ...]:
    return tuple(
        RequestRow(text=r.text, subject=i18n.about_label(r.subject_id, lang, r.subject_id) if r.subject_id else "",
                   by=r.by_name, at=when(r.at, lang), status=r.status.value,
                   status_label=words[_REQUEST_STATUS_KEYS[r.status]], reply=r.reply)
        for r in requests if r.kind is kind)


def when(at: datetime, lang: str) -> str:
    return f"{i18n.format_date(at.date(), lang)} {at:%H:%M}"


# ---------------------------------------------------------------------------------------------------
# The care team's side: what the family is waiting on
# ---------------------------------------------------------------------------------------------------

_KIND_LABELS = {RequestKind.QUESTION: "Question for the next visit", RequestKind.NEED_HELP: "Needs help",
                RequestKind.ABOUT_CHANGE: "Proposed change to About us",
                RequestKind.ACCESS: "A parent asks to see this adolescent's plan in the portal"}


@dataclass(frozen=True, slots=True)
class TeamRequestRow:
    request_id: str
    kind: str
    kind_label: str
    about: str  # the action it is about, or the About us question; "" for a question
    text: str
    by: str
    at: str


def team_requests(requests: Sequence[FamilyRequest], plan: Plan | None,
                  kinds: Sequence[RequestKind] = tuple(_KIND_LABELS)) -> tuple[TeamRequestRow, ...]:
    """The family's open requests of these kinds, oldest first, for the care team (in English)."""
    def about(request: FamilyRequest) -> str:
        if request.kind is RequestKind.NEED_HELP:
            action = plan.action(request.subject_id) if plan else None
            return action.text if action else ""
        if request.kind is RequestKind.ABOUT_CHANGE:
            return i18n.about_label(request.subject_id, "en", request.subject_id)
        return ""

    return tuple(TeamRequestRow(r.request_id, r.kind.value, _KIND_LABELS[r.kind], about(r), r.text, r.by_name,
                                when(r.at, "en"))
                 for r in requests if r.is_open and r.kind in kinds)
