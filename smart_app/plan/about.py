"""About us, emergency and legal information, release-of-information consent, and the family copy.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only. No clock: callers pass
`today` / `now`.

- The intake interview is a FHIR R4 Questionnaire shipped with the app (`intake_questionnaire()`);
  the family's answers are kept as `IntakeAnswers` and exported as a QuestionnaireResponse.
- Emergency and legal information the EHR does not hold is `EmergencyInfo`.
- Release-of-information consent is a list of `ConsentEntry` (one FHIR Consent each); `consented()`
  decides whether a provider may appear in anything the app shares.
- `family_copy_model()` assembles the family's portable copy, with consent applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from smart_app.plan import i18n, problems
from smart_app.plan import summary as s
from smart_app.plan.curation import AddedItem, ItemCuration
from smart_app.plan.model import (
    ActionStatus,
    GoalKind,
    GoalLifecycle,
    NegotiatedAction,
    PlanState,
    PlanVersion,
    Role,
)
from smart_app.plan.record import SectionState
from smart_app.plan.section_status import no_known_allergies_text, section_status
from smart_app.plan.text import clean_text

LOINC = "http://loinc.org"
BCP47 = "urn:ietf:bcp:47"
QUESTIONNAIRE_URL = "https://spoc-smart-app.org/fhir/Questionnaire/about-us-intake"
QUESTIONNAIRE_VERSION = "1.0.0"
MAX_ANSWER = 2000
MAX_FIELD = 500


class AboutError(ValueError):
    """Input that cannot be saved; the message is shown to the user."""


# ---------------------------------------------------------------------------------------------------
# The intake interview
# ---------------------------------------------------------------------------------------------------


class AnswerKind(StrEnum):  # FHIR Questionnaire item types used here
    TEXT = "text"
    STRING = "string"
    CHOICE = "choice"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    display: str
    system: str = LOINC


@dataclass(frozen=True, slots=True)
class Question:
    link_id: str
    text: str
    kind: AnswerKind
    hint: str = ""
    loinc: str = ""  # the question's LOINC code, only where a standard screening item exists
    choices: tuple[Choice, ...] = ()

    def choice(self, code: str) -> Choice | None:
        return next((c for c in self.choices if c.code == code), None)


@dataclass(frozen=True, slots=True)
class Section:
    link_id: str
    title: str
    questions: tuple[Question, ...]


# Hunger Vital Sign answers (LOINC answer list for 88122-7 and 88123-5).
_HUNGER = (Choice("LA28397-0", "Often true"), Choice("LA6729-3", "Sometimes true"), Choice("LA28398-8", "Never true"))
_YES_NO = (Choice("LA33-6", "Yes"), Choice("LA32-8", "No"))
_LANGUAGES = tuple(Choice(code, name, BCP47) for code, name in (
    ("en", "English"), ("es", "Spanish"), ("vi", "Vietnamese"), ("zh", "Chinese"), ("ar", "Arabic"),
    ("ht", "Haitian Creole"), ("pt", "Portuguese")))

INTAKE: tuple[Section, ...] = (
    Section("about", "About us, in our own words", (
        Question("strengths", "Our strengths and what works well", AnswerKind.TEXT,
                 "What is going well, what helps, what your child enjoys and is good at."),
        Question("what-matters", "What matters most to us", AnswerKind.TEXT),
        Question("priority", "Our priority right now", AnswerKind.TEXT,
                 "The one thing you most want help with now."),
        Question("daily-life", "Daily life, school and work", AnswerKind.TEXT,
                 "Where you live, learn, work and play; routines; school or day program; work."),
    )),
    Section("social-needs", "Social needs", (
        Question("food-worry", "Within the past 12 months we worried whether our food would run out before we "
                 "got money to buy more", AnswerKind.CHOICE, loinc="88122-7", choices=_HUNGER),
        Question("food-ran-out", "Within the past 12 months the food we bought just didn't last and we didn't "
                 "have money to get more", AnswerKind.CHOICE, loinc="88123-5", choices=_HUNGER),
        Question("housing", "What is your living situation today?", AnswerKind.CHOICE, loinc="71802-3", choices=(
            Choice("LA31993-1", "I have a steady place to live"),
            Choice("LA31994-9", "I have a place to live today, but I am worried about losing it in the future"),
            Choice("LA31995-6", "I do not have a steady place to live"))),
        Question("transportation", "Has lack of transportation kept you from medical appointments, meetings, "
                 "work, or from getting things needed for daily living?", AnswerKind.CHOICE, loinc="93030-5",
                 choices=_YES_NO),
        Question("other-needs", "Other needs or worries", AnswerKind.TEXT,
                 "Money, utilities, child care, safety, respite: anything else the team should know."),
    )),
    Section("communication", "Language and communication", (
        Question("language", "Preferred language", AnswerKind.CHOICE, choices=_LANGUAGES),
        Question("interpreter", "We would like an interpreter", AnswerKind.BOOLEAN),
        Question("communication", "How we like to communicate", AnswerKind.TEXT,
                 "Phone, text or email; best times; how your child communicates."),
    )),
    Section("contacts", "Who to contact", (
        Question("family-contact-name", "The family's main contact (name and relationship)", AnswerKind.STRING),
        Question("family-contact-phone", "The family's main contact: phone", AnswerKind.STRING),
        Question("team-lead-name", "The team's lead contact (name and role)", AnswerKind.STRING),
        Question("team-lead-phone", "The team's lead contact: phone", AnswerKind.STRING),
    )),
)

QUESTIONS: Mapping[str, Question] = {q.link_id: q for section in INTAKE for q in section.questions}
ABOUT_US_ITEMS = ("strengths", "what-matters", "priority", "daily-life", "communication")


def intake_questionnaire() -> dict[str, Any]:
    """The intake interview as a FHIR R4 Questionnaire."""
    return {
        "resourceType": "Questionnaire",
        "id": "about-us-intake",
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "name": "AboutUsIntake",
        "title": "About us: the family's intake interview for the Shared Plan of Care",
        "status": "active",
        "subjectType": ["Patient"],
        "item": [{"linkId": section.link_id, "text": section.title, "type": "group",
                  "item": [_questionnaire_item(q) for q in section.questions]} for section in INTAKE],
    }


def _questionnaire_item(question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.link_id, "text": question.text, "type": question.kind.value,
                            "required": False}
    if question.loinc:
        item["code"] = [{"system": LOINC, "code": question.loinc, "display": question.text}]
    if question.choices:
        item["answerOption"] = [{"valueCoding": _coding(c)} for c in question.choices]
    return item


def _coding(choice: Choice) -> dict[str, str]:
    return {"system": choice.system, "code": choice.code, "display": choice.display}


@dataclass(frozen=True, slots=True)
class IntakeAnswers:
    """The family's answers: link id -> raw value (free text, a choice's code, or "true"/"false")."""

    values: tuple[tuple[str, str], ...] = ()

    def get(self, link_id: str) -> str:
        return dict(self.values).get(link_id, "")

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)

    @property
    def is_empty(self) -> bool:
        return not self.values


@dataclass(frozen=True, slots=True)
class IntakeVersion:
    version: int
    answers: IntakeAnswers
    saved_by: str
    saved_at: datetime


def answers_from_form(form: Mapping[str, Any]) -> IntakeAnswers:
    """Answers from a submitted form (keyed by link id); unknown keys are ignored.

    Raises AboutError for a choice that is not offered or an answer that is too long."""
    values = []
    for link_id, question in QUESTIONS.items():
        raw = form.get(link_id)
        value = _clean(raw, question)
        if value:
            values.append((link_id, value))
    return IntakeAnswers(tuple(values))


def answers_from_mapping(values: Mapping[str, Any]) -> IntakeAnswers:
    """Stored answers back as IntakeAnswers (questions no longer asked are dropped)."""
    return IntakeAnswers(tuple((k, str(values[k])) for k in QUESTIONS if values.get(k)))


def _clean(raw: Any, question: Question) -> str:
    if question.kind is AnswerKind.BOOLEAN:
        return "true" if str(raw or "").strip().casefold() in ("true", "on", "yes", "1") else ""
    if question.kind is AnswerKind.CHOICE:
        code = str(raw or "").strip()
        if code and question.choice(code) is None:
            raise AboutError(f"Please choose one of the answers offered for “{question.text}”.")
        return code
    limit = MAX_ANSWER if question.kind is AnswerKind.TEXT else MAX_FIELD
    text = "\n".join(" ".join(line.split()) for line in str(raw or "").strip().splitlines()).strip()
    if len(text) > limit:
        raise AboutError(f"The answer to “{question.text}” is too long (at most {limit} characters).")
    return text


def answer_display(link_id: str, value: str, lang: str = "en") -> str:
    """An answer as a reader sees it: free text as written, a choice by its label."""
    question = QUESTIONS.get(link_id)
    if question is None or not value:
        return value
    if question.kind is AnswerKind.BOOLEAN:
        return i18n.answer_label(value, "Yes" if value == "true" else "No", lang)
    choice = question.choice(value) if question.kind is AnswerKind.CHOICE else None
    return i18n.answer_label(choice.code, choice.display, lang) if choice else value


def questionnaire_response(answers: IntakeAnswers, *, patient_id: str, authored: datetime, version: int,
                           author: str = "") -> dict[str, Any]:
    """The answers as a FHIR R4 QuestionnaireResponse against the app's intake Questionnaire."""
    groups = []
    for section in INTAKE:
        items = [_response_item(q, answers.get(q.link_id)) for q in section.questions if answers.get(q.link_id)]
        if items:
            groups.append({"linkId": section.link_id, "text": section.title, "item": items})
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "meta": {"versionId": str(version)},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": authored.isoformat(),
        "item": groups,
    }
    if author:
        response["author"] = {"display": author}
    return response


def _response_item(question: Question, value: str) -> dict[str, Any]:
    if question.kind is AnswerKind.BOOLEAN:
        answer: dict[str, Any] = {"valueBoolean": value == "true"}
    elif question.kind is AnswerKind.CHOICE:
        choice = question.choice(value)
        answer = {"valueCoding": _coding(choice)} if choice else {"valueString": value}
    else:
        answer = {"valueString": value}
    return {"linkId": question.link_id, "text": question.text, "answer": [answer]}


def answers_from_response(response: Mapping[str, Any]) -> IntakeAnswers:
    """IntakeAnswers from a QuestionnaireResponse made by `questionnaire_response` (or shaped like it)."""
    found: dict[str, str] = {}
    for item in _walk(response.get("item") or ()):
        link_id = str(item.get("linkId", ""))
        if link_id not in QUESTIONS:
            continue
        for answer in item.get("answer") or ():
            if "valueBoolean" in answer:
                found[link_id] = "true" if answer["valueBoolean"] else ""
            elif "valueCoding" in answer:
                found[link_id] = str(answer["valueCoding"].get("code", ""))
            elif "valueString" in answer:
                found[link_id] = clean_text(str(answer["valueString"]))
    return answers_from_mapping(found)


def _walk(items: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for item in items:
        yield item
        yield from _walk(item.get("item") or ())


# ---------------------------------------------------------------------------------------------------
# Emergency and legal information the EHR does not hold
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmergencyInfo:
    baseline: str = ""  # "what is normal for me"
    instructions: str = ""  # "in an emergency, please…"
    key_diagnoses: str = ""  # when empty, the copy lists the EHR's active conditions
    guardianship: str = ""  # who holds legal decision-making
    family_documents: str = ""  # advance directive, POLST, emergency plan the family holds, and where

    @property
    def is_empty(self) -> bool:
        return not any((self.baseline, self.instructions, self.key_diagnoses, self.guardianship,
                        self.family_documents))


EMERGENCY_FIELDS: tuple[str, ...] = ("baseline", "instructions", "key_diagnoses", "guardianship",
                                     "family_documents")


def emergency_from_form(form: Mapping[str, Any]) -> EmergencyInfo:
    """Raises AboutError when a field is too long."""
    values = {}
    for name in EMERGENCY_FIELDS:
        text = "\n".join(" ".join(line.split()) for line in str(form.get(name) or "").strip().splitlines()).strip()
        if len(text) > MAX_ANSWER:
            raise AboutError(f"That text is too long (at most {MAX_ANSWER} characters).")
        values[name] = text
    return EmergencyInfo(**values)


# ---------------------------------------------------------------------------------------------------
# Release-of-information consent
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider or organisation as it appears in the plan: its name, and its reference when known."""

    name: str
    reference: str = ""  # "PractitionerRole/7", "Organization/3"


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """Permission for one provider or organisation to exchange the patient's information."""

    entry_id: str
    recipient: str  # the provider or organisation
    role: str  # "Neurologist", "School nurse", "Home nursing agency"
    consented_by: str  # "Ana Rivera (mother, legal guardian)"
    consented_on: date
    reference: str = ""  # the care-team member's reference when picked from the team
    start: date | None = None
    end: date | None = None  # None: until withdrawn
    recorded_by: str = ""
    recorded_at: datetime | None = None

    def in_force(self, today: date) -> bool:
        return (self.start is None or self.start <= today) and (self.end is None or today <= self.end)


_TITLES = frozenset({"dr", "doctor", "dra", "mr", "mrs", "ms", "miss", "prof"})
_CREDENTIALS = frozenset({"md", "do", "rn", "np", "pa", "phd", "aud", "dds", "bsn", "msn", "cpnp", "aprn", "pt",
                          "ot", "slp", "lcsw", "msw", "mph", "jr", "sr"})


def _normalized(name: str) -> str:
    """A person's name for matching: no case, punctuation, title ("Dr") or credentials ("MD", "RN")."""
    words = re.sub(r"[^\w\s]", " ", name.casefold()).split()
    while words and words[0] in _TITLES:
        words = words[1:]
    while words and words[-1] in _CREDENTIALS:
        words = words[:-1]
    return " ".join(words)


def consented(provider: Provider, consent: Sequence[ConsentEntry], today: date) -> bool:
    """Whether the consent in force on `today` lets `provider` exchange information.

    Matched by reference when both sides have one, otherwise by name (ignoring case, punctuation and
    titles such as "Dr")."""
    wanted = _normalized(provider.name)
    for entry in consent:
        if not entry.in_force(today):
            continue
        if provider.reference and entry.reference:
            if provider.reference == entry.reference:
                return True
            continue
        if wanted and _normalized(entry.recipient) == wanted:
            return True
    return False


def consent_entry_from_form(form: Mapping[str, Any], *, entry_id: str, recorded_by: str, recorded_at: datetime,
                            team: Mapping[str, tuple[str, str]] | None = None) -> ConsentEntry:
    """A new entry from the consent form. `team` maps care-team references to (name, role), for the picker.

    Raises AboutError for a missing recipient, consenting person or date, or dates out of order."""
    reference = str(form.get("reference") or "").strip()
    recipient, role = _field(form.get("recipient")), _field(form.get("role"))
    if reference:
        if team is None or reference not in team:
            raise AboutError("That care team member could not be found.")
        recipient, role = recipient or team[reference][0], role or team[reference][1]
    if not recipient:
        raise AboutError("Please enter who may receive information.")
    consented_by = _field(form.get("consented_by"))
    if not consented_by:
        raise AboutError("Please enter who gave consent.")
    consented_on = _date(form.get("consented_on"), "date consent was given", required=True)
    start, end = _date(form.get("start"), "start date"), _date(form.get("end"), "end date")
    if start and end and end < start:
        raise AboutError("The end date is before the start date.")
    assert consented_on is not None
    return ConsentEntry(entry_id=entry_id, recipient=recipient, role=role,
                        consented_by=consented_by, consented_on=consented_on, reference=reference,
                        start=start, end=end, recorded_by=recorded_by, recorded_at=recorded_at)


def _field(value: Any) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > MAX_FIELD:
        raise AboutError(f"That text is too long (at most {MAX_FIELD} characters).")
    return text


def _date(value: Any, name: str, *, required: bool = False) -> date | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise AboutError(f"Please enter the {name}.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AboutError(f"The {name} is not a date (use the date picker, or YYYY-MM-DD).") from None


def consent_bundle(entries: Iterable[ConsentEntry], *, patient_id: str) -> dict[str, Any]:
    """The consent in force as a collection Bundle of FHIR Consent resources."""
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": consent_resource(e, patient_id=patient_id)} for e in entries]}


def consent_resource(entry: ConsentEntry, *, patient_id: str) -> dict[str, Any]:
    """One entry as a FHIR R4 Consent: release of information to one recipient (SPOC-DOMAIN §6.5)."""
    actor_reference: dict[str, str] = {"display": entry.recipient}
    if entry.reference:
        actor_reference["reference"] = entry.reference
    provision: dict[str, Any] = {
        "type": "permit",
        "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                        "code": "IRCP", "display": "information recipient"}],
                            "text": entry.role or "Information recipient"},
                   "reference": actor_reference}],
        "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction",
                                "code": "disclose"}]}],
        "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
                     "display": "treatment"}],
    }
    period = {k: v.isoformat() for k, v in (("start", entry.start), ("end", entry.end)) if v}
    if period:
        provision["period"] = period
    return {
        "resourceType": "Consent",
        "id": entry.entry_id,
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "64292-6",
                                  "display": "Release of information consent"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": entry.consented_on.isoformat(),
        "performer": [{"display": entry.consented_by}],
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTIN"}]},
        "provision": provision,
    }


# ---------------------------------------------------------------------------------------------------
# The family copy
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CopyLine:
    label: str
    details: tuple[str, ...] = ()
    flag: str = ""  # e.g. "Serious allergy"


@dataclass(frozen=True, slots=True)
class CopyAction:
    text: str
    owner: str
    due: str  # formatted in the copy's language; the "no date" label when none
    action_id: str = ""
    family_owned: bool = False  # the family's own action: they mark it done on their page


@dataclass(frozen=True, slots=True)
class CopyGoal:
    text: str
    kind_label: str
    expressed_by: str
    target: str
    actions: tuple[CopyAction, ...]
    goal_id: str = ""


@dataclass(frozen=True, slots=True)
class AboutLine:
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class FamilyCopy:
    """Everything the family copy shows, already in the family's language. No FHIR, no dicts."""

    lang: str
    labels: Mapping[str, str] = field(repr=False)
    patient_name: str
    birth_date: str
    printed_on: str
    has_signed_plan: bool
    plan_version: str  # "3 (revision 1)" or ""
    signed_on: str
    next_review: str
    about: tuple[AboutLine, ...]
    main_contact: str
    team_lead: str
    baseline: str
    instructions: str
    key_diagnoses: tuple[str, ...]
    allergies: tuple[CopyLine, ...]
    emergency_contacts: tuple[CopyLine, ...]
    guardianship: str
    family_documents: str
    ehr_documents: tuple[CopyLine, ...]
    hospital_use: tuple[CopyLine, ...]  # ED visits and admissions of the last 12 months, each with the last one
    conditions: tuple[CopyLine, ...]  # diagnoses, by clinical weight
    health_concerns: tuple[CopyLine, ...]  # health concerns and social needs: never among the diagnoses
    medications: tuple[CopyLine, ...]
    equipment: tuple[CopyLine, ...]
    goals: tuple[CopyGoal, ...]
    other_actions: tuple[CopyAction, ...]
    care_team: tuple[CopyLine, ...]
    sharing: tuple[CopyLine, ...]
    # What the reader is told about each list from the health record besides its items: "none", "could
    # not be loaded on …", "only part…" (plan.section_status); absent when the list is complete with items.
    statuses: Mapping[str, str] = field(default_factory=dict)


def copy_language(requested: str | None, intake: IntakeAnswers | None, header: s.PatientHeader | None) -> str:
    """The copy's language: asked for explicitly, else the family's answer, else the EHR's preferred
    language, else English."""
    return i18n.choose_language(requested, intake.get("language") if intake else None,
                                header.language if header else None)


def family_copy_model(*, lang: str, today: date, header: s.PatientHeader | None,
                      sections: Mapping[str, s.SummarySection], intake: IntakeAnswers | None,
                      emergency: EmergencyInfo | None, consent: Sequence[ConsentEntry],
                      signed: PlanVersion | None, curations: Mapping[str, ItemCuration] | None = None,
                      added: Sequence[AddedItem] = (), read_on: date | None = None) -> FamilyCopy:
    """The family copy of the current signed plan (or, without one, of everything else).

    Consent is applied throughout: a provider or organisation not consented on `today` is never named
    (care team, action owners, suppliers); its role is shown instead where the plan needs one.

    `sections` are as the EHR was read on `read_on` (today, or the day the plan was signed); a section
    that is missing, failed or incomplete is said to be so, never shown as empty."""
    lang = i18n.supported(lang) or i18n.DEFAULT_LANGUAGE
    words = i18n.labels(lang)
    intake = intake or IntakeAnswers()
    emergency = emergency or EmergencyInfo()
    shown = _Shown(sections, curations or {})

    def allowed(provider: Provider) -> bool:
        return consented(provider, consent, today)

    plan = signed.plan if signed and signed.plan.state is PlanState.SIGNED else None
    listed = [i for i in shown.items("conditions") if isinstance(i, s.ConditionItem)]
    conditions = tuple(CopyLine(i.label) for i in problems.ranked(listed))  # diagnoses only, by weight
    health_concerns = tuple(CopyLine(i.label) for i in listed if not problems.is_diagnosis(i))
    lists = {"allergies": "allergies", "conditions": "conditions", "medications": "medications",
             "equipment": "equipment", "emergency_contacts": "patient", "ehr_documents": "documents",
             "care_team": "care_team"}
    statuses = {name: text for name, key in lists.items()
                if (text := shown.status(key, read_on or today, lang))}
    if (text := shown.status("encounters", read_on or today, lang)) and shown.state("encounters") is not \
            SectionState.COMPLETE:
        statuses["hospital_use"] = text  # not read, or only part of it: the counts are not to be trusted as zero
    if not _lines(emergency.key_diagnoses) and "conditions" in statuses:  # the key diagnoses come from the EHR
        statuses["key_diagnoses"] = statuses["conditions"]
    if "conditions" in statuses and shown.state("conditions") is not SectionState.COMPLETE:
        statuses["health_concerns"] = statuses["conditions"]  # failed or partial: the same is true of them
    return FamilyCopy(
        lang=lang,
        labels=words,
        patient_name=header.name if header else "",
        birth_date=i18n.format_date(header.birth_date if header else None, lang),
        printed_on=i18n.format_date(today, lang),
        has_signed_plan=plan is not None,
        plan_version=f"{signed.version}" if plan is not None and signed else "",
        signed_on=i18n.format_date(plan.signed_at.date() if plan and plan.signed_at else None, lang),
        next_review=i18n.format_date(plan.next_review if plan else None, lang),
        about=tuple(AboutLine(i18n.about_label(k, lang), answer_display(k, intake.get(k), lang))
                    for k in ABOUT_US_ITEMS if intake.get(k)),
        main_contact=_joined(intake.get("family-contact-name"), intake.get("family-contact-phone")),
        team_lead=_joined(intake.get("team-lead-name"), intake.get("team-lead-phone")),
        baseline=emergency.baseline,
        instructions=emergency.instructions,
        key_diagnoses=tuple(_lines(emergency.key_diagnoses))
        or tuple(i.label for i in problems.main_diagnoses(listed)),
        allergies=tuple(_allergy_line(i, words, lang) for i in shown.items("allergies")),
        emergency_contacts=tuple(_contact_line(i, words) for i in shown.items("patient")),
        guardianship=emergency.guardianship,
        family_documents=emergency.family_documents,
        ehr_documents=tuple(CopyLine(i.label, tuple(p for p in (i.kind, i18n.format_date(i.dated, lang)) if p))
                            for i in shown.items("documents")),
        hospital_use=_hospital_use(sections.get("encounters"), read_on or today, words, lang),
        conditions=conditions,
        health_concerns=health_concerns,
        medications=tuple(CopyLine(i.label, (i.dose_text,) if i.dose_text else ())
                          for i in shown.items("medications")),
        equipment=tuple(_equipment_line(i, allowed) for i in shown.items("equipment"))
        + tuple(CopyLine(a.label) for a in added if a.section == "equipment"),
        goals=_goals(plan, lang, allowed) if plan else (),
        other_actions=tuple(_action(a, lang, allowed) for a in _unlinked_actions(plan)) if plan else (),
        care_team=_care_team(shown.items("care_team"), added, words, allowed),
        sharing=tuple(CopyLine(e.recipient, tuple(p for p in (e.role, _period(e, lang, words)) if p))
                      for e in consent if e.in_force(today)),
        statuses=statuses,
    )


class _Shown:
    """The summary's current items, without those the coordinator left out of the plan."""

    def __init__(self, sections: Mapping[str, s.SummarySection], curations: Mapping[str, ItemCuration]) -> None:
        self.sections = sections
        self.curations = curations

    def items(self, key: str) -> list[Any]:
        section = self.sections.get(key)
        if section is None:
            return []
        return [i for i in section.active if not self._hidden(i)]

    def state(self, key: str) -> SectionState:
        section = self.sections.get(key)
        return SectionState(section.state) if section is not None else SectionState.FAILED

    def status(self, key: str, read_on: date, lang: str) -> str:
        """The one wording for this list (plan.section_status); a section never read is "failed"."""
        section = self.sections.get(key)
        state = section.state if section is not None else SectionState.FAILED
        found = section_status(key, SectionState(state), shown=len(self.items(key)), read_on=read_on, lang=lang)
        return found.text if found else ""

    def _hidden(self, item: s.SummaryItem) -> bool:
        curation = self.curations.get(s.item_key(item))
        return bool(curation and curation.hidden)


def _hospital_use(section: s.SummarySection | None, on: date, words: Mapping[str, str],
                  lang: str) -> tuple[CopyLine, ...]:
    """Emergency visits and admissions of the last 12 months, with the day of the last one; () when unknown."""
    if section is None or section.state in (SectionState.FAILED, SectionState.NOT_OFFERED):
        return ()
    use = s.hospital_use_of(section, today=on)
    if use is None:
        return ()
    more = "" if use.complete else f" {words['or_more']}"

    def line(label: str, count: int, last: date | None) -> CopyLine:
        return CopyLine(words[label], tuple(p for p in (
            f"{count}{more}", f"{words['last_on']} {i18n.format_date(last, lang)}" if last else "") if p))
    return (line("ed_visits_12m", use.ed_visits_12m, use.last_ed_visit),
            line("admissions_12m", use.admissions_12m, use.last_admission))


def _joined(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _lines(text: str) -> list[str]:
    return [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]


def _allergy_line(item: s.AllergyItem, words: Mapping[str, str], lang: str) -> CopyLine:
    if item.no_known:
        return CopyLine(no_known_allergies_text(item.label, item.source.recorded, lang))
    details = (f"{words['reaction']}: {', '.join(item.reactions)}",) if item.reactions else ()
    return CopyLine(item.label, details, words["serious"] if item.criticality == i18n.CRITICALITY_HIGH else "")


def _contact_line(item: s.Contact, words: Mapping[str, str]) -> CopyLine:
    return CopyLine(item.name, tuple(p for p in (item.relationship,
                                                 f"{words['phone']} {item.phone}" if item.phone else "") if p))


def _equipment_line(item: s.EquipmentItem, allowed) -> CopyLine:
    supplier = item.supplier if item.supplier and allowed(Provider(item.supplier)) else ""
    return CopyLine(item.label, (supplier,) if supplier else ())


def _care_team(members: Iterable[s.CareTeamMember], added: Sequence[AddedItem], words: Mapping[str, str],
               allowed) -> tuple[CopyLine, ...]:
    lines = []
    for member in members:
        if member.member.startswith(("RelatedPerson/", "Patient/")):
            continue  # the family are contacts, not providers
        if not allowed(Provider(member.name, member.member)):
            continue
        roles = (member.role,) if member.specialty in ("", member.role) else (member.role, member.specialty)
        details = (", ".join(p for p in roles if p), member.organization,
                   f"{words['phone']} {member.phone}" if member.phone else "")
        lines.append(CopyLine(member.name, tuple(d for d in details if d)))
    for item in added:
        if item.section == "care_team" and allowed(Provider(item.label)):
            lines.append(CopyLine(item.label, (item.contact,) if item.contact else ()))
    return tuple(lines)


def _period(entry: ConsentEntry, lang: str, words: Mapping[str, str]) -> str:
    start = f"{words['from']} {i18n.format_date(entry.start, lang)}" if entry.start else ""
    end = f"{words['until']} {i18n.format_date(entry.end, lang)}" if entry.end else ""
    return " ".join(p for p in (start, end) if p)


def _owner(action: NegotiatedAction, lang: str, allowed) -> str:
    role = i18n.role_label(action.owner.role.value, lang)
    name = action.owner.name
    if not name:
        return role
    if action.owner.role is Role.FAMILY or allowed(Provider(name)):
        return f"{name} ({role})"
    return role  # a provider without consent is never named


def _action(action: NegotiatedAction, lang: str, allowed) -> CopyAction:
    return CopyAction(text=action.text, owner=_owner(action, lang, allowed),
                      due=i18n.format_date(action.due, lang) or i18n.labels(lang)["no_due"],
                      action_id=action.action_id, family_owned=action.owner.role is Role.FAMILY)


def _goals(plan, lang: str, allowed) -> tuple[CopyGoal, ...]:
    words = i18n.labels(lang)
    return tuple(
        CopyGoal(
            text=goal.text,
            kind_label=words["family_goal"] if goal.kind is GoalKind.FAMILY else words["clinical_goal"],
            expressed_by=goal.expressed_by,
            target=i18n.format_date(goal.target_date, lang),
            actions=tuple(_action(a, lang, allowed) for a in _live(plan.actions) if a.goal_id == goal.goal_id),
            goal_id=goal.goal_id,
        )
        for goal in plan.goals if goal.lifecycle is not GoalLifecycle.CANCELLED
    )


def _live(actions: Iterable[NegotiatedAction]) -> list[NegotiatedAction]:
    return [a for a in actions if a.status is not ActionStatus.CANCELLED]


def _unlinked_actions(plan) -> list[NegotiatedAction]:
    goal_ids = {g.goal_id for g in plan.goals if g.lifecycle is not GoalLifecycle.CANCELLED}
    return [a for a in _live(plan.actions) if a.goal_id not in goal_ids]
