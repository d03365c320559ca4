"""Words of the family copy in the family's language: headings, labels, roles, answers and dates.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.

Plain language on purpose: the copy is read by parents, school nurses and emergency staff. Text the
family or the EHR wrote (diagnoses, goals, their own words) is never translated, only framed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es")

# Names an EHR or the intake may give a language, mapped to the copy's language code.
_LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "en", "eng": "en", "english": "en", "inglés": "en", "ingles": "en",
    "es": "es", "spa": "es", "spanish": "es", "español": "es", "espanol": "es", "castellano": "es",
}

LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Our Shared Plan of Care",
        "subtitle": "A copy for the family to carry and share, for example at an emergency visit.",
        "born": "Born",
        "printed": "Printed",
        "plan_version": "Plan version",
        "signed": "Signed",
        "next_review": "Next review",
        "no_signed_plan": "There is no signed plan yet. This copy shows who we are, the medical summary "
                          "and emergency information. Goals and actions will appear once the plan is signed.",
        "about_us": "About us",
        "about_us_empty": "The family has not filled in the About us interview yet.",
        "priority": "Our priority right now",
        "emergency": "In an emergency",
        "baseline": "What is normal for me",
        "instructions": "In an emergency, please",
        "key_diagnoses": "Key diagnoses",
        "allergies": "Allergies",
        "reaction": "Reaction",
        "serious": "Serious allergy",
        "emergency_contacts": "Emergency contacts",
        "hospital_use": "Recent hospital use",
        "ed_visits_12m": "Emergency visits, last 12 months",
        "admissions_12m": "Hospital admissions, last 12 months",
        "last_on": "last on",
        "or_more": "or more",
        "legal": "Legal and advance directives",
        "guardianship": "Who makes decisions (guardianship)",
        "family_documents": "Documents the family holds",
        "ehr_documents": "Documents in the health record",
        "medical_summary": "Medical summary",
        "conditions": "Health conditions",
        "health_concerns": "Health concerns and social needs",
        "medications": "Medicines",
        "equipment": "Equipment and devices",
        "goals_actions": "Our goals and who does what by when",
        "goal": "Goal",
        "family_goal": "Family goal",
        "clinical_goal": "Health goal",
        "in_words_of": "In the words of",
        "target": "Target date",
        "action": "What",
        "owner": "Who",
        "due": "By when",
        "no_due": "No date set",
        "other_actions": "Other actions",
        "no_actions": "No actions for this goal.",
        "care_team": "Our care team",
        "care_team_none": "No care team members have consent to share information.",
        "sharing": "Who may share our information",
        "sharing_none": "The family has not given consent to share information with anyone yet.",
        "until": "until",
        "from": "from",
        "phone": "Phone",
        "main_contact": "Our main contact",
        "team_lead": "Our team's lead contact",
        "footer": "This copy was made by the Shared Plan of Care app. Check with the care team for changes.",
        "page": "Page",
        "print": "Print",
        "download_pdf": "Download PDF",
        "open_new_tab": "Open in a new tab",
    },
    "es": {
        "title": "Nuestro Plan de Cuidado Compartido",
        "subtitle": "Una copia para que la familia la lleve y la comparta, por ejemplo en una visita de emergencia.",
        "born": "Fecha de nacimiento",
        "printed": "Impreso",
        "plan_version": "Versión del plan",
        "signed": "Firmado",
        "next_review": "Próxima revisión",
        "no_signed_plan": "Todavía no hay un plan firmado. Esta copia muestra quiénes somos, el resumen médico "
                          "y la información de emergencia. Las metas y acciones aparecerán cuando se firme el plan.",
        "about_us": "Sobre nosotros",
        "about_us_empty": "La familia todavía no ha completado la entrevista Sobre nosotros.",
        "priority": "Nuestra prioridad ahora",
        "emergency": "En caso de emergencia",
        "baseline": "Lo que es normal para mí",
        "instructions": "En una emergencia, por favor",
        "key_diagnoses": "Diagnósticos principales",
        "allergies": "Alergias",
        "reaction": "Reacción",
        "serious": "Alergia grave",
        "emergency_contacts": "Contactos de emergencia",
        "hospital_use": "Uso reciente del hospital",
        "ed_visits_12m": "Visitas a urgencias, últimos 12 meses",
        "admissions_12m": "Ingresos al hospital, últimos 12 meses",
        "last_on": "la última el",
        "or_more": "o más",
        "legal": "Documentos legales y directivas anticipadas",
        "guardianship": "Quién toma las decisiones (tutela)",
        "family_documents": "Documentos que tiene la familia",
        "ehr_documents": "Documentos en el expediente médico",
        "medical_summary": "Resumen médico",
        "conditions": "Condiciones de salud",
        "health_concerns": "Preocupaciones de salud y necesidades sociales",
        "medications": "Medicamentos",
        "equipment": "Equipos y aparatos",
        "goals_actions": "Nuestras metas y quién hace qué y para cuándo",
        "goal": "Meta",
        "family_goal": "Meta de la familia",
        "clinical_goal": "Meta de salud",
        "in_words_of": "En palabras de",
        "target": "Fecha meta",
        "action": "Qué",
        "owner": "Quién",
        "due": "Para cuándo",
        "no_due": "Sin fecha",
        "other_actions": "Otras acciones",
        "no_actions": "No hay acciones para esta meta.",
        "care_team": "Nuestro equipo de cuidado",
        "care_team_none": "Ningún miembro del equipo tiene consentimiento para compartir información.",
        "sharing": "Quién puede compartir nuestra información",
        "sharing_none": "La familia todavía no ha dado consentimiento para compartir información con nadie.",
        "until": "hasta",
        "from": "desde",
        "phone": "Teléfono",
        "main_contact": "Nuestro contacto principal",
        "team_lead": "Contacto principal del equipo",
        "footer": "Esta copia fue hecha por la aplicación del Plan de Cuidado Compartido. "
                  "Consulte con el equipo de cuidado si hay cambios.",
        "page": "Página",
        "print": "Imprimir",
        "download_pdf": "Descargar PDF",
        "open_new_tab": "Abrir en una pestaña nueva",
    },
}

# Who does an action (plan.model.Role values).
ROLE_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {"coordinator": "Care coordinator", "clinician": "Primary care doctor", "family": "Family",
           "specialist": "Specialist", "school-nurse": "School nurse", "community": "Community provider"},
    "es": {"coordinator": "Coordinador(a) de cuidado", "clinician": "Médico(a) de cabecera", "family": "Familia",
           "specialist": "Especialista", "school-nurse": "Enfermero(a) escolar",
           "community": "Proveedor comunitario"},
}

# The About us questions as the copy heads them (intake link ids).
ABOUT_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {"strengths": "Our strengths and what works well", "what-matters": "What matters most to us",
           "priority": "Our priority right now", "daily-life": "Daily life, school and work",
           "communication": "How we like to communicate", "language": "Our language",
           "interpreter": "We would like an interpreter"},
    "es": {"strengths": "Nuestras fortalezas y lo que funciona bien", "what-matters": "Lo que más nos importa",
           "priority": "Nuestra prioridad ahora", "daily-life": "La vida diaria, la escuela y el trabajo",
           "communication": "Cómo nos gusta comunicarnos", "language": "Nuestro idioma",
           "interpreter": "Nos gustaría tener un intérprete"},
}

# Coded answers (LOINC answer codes, BCP-47 language tags) in Spanish; English uses the code's display.
ANSWER_LABELS_ES: Mapping[str, str] = {
    "LA28397-0": "Con frecuencia es cierto",
    "LA6729-3": "A veces es cierto",
    "LA28398-8": "Nunca es cierto",
    "LA31993-1": "Tengo un lugar estable donde vivir",
    "LA31994-9": "Hoy tengo un lugar donde vivir, pero me preocupa perderlo en el futuro",
    "LA31995-6": "No tengo un lugar estable donde vivir",
    "LA33-6": "Sí",
    "LA32-8": "No",
    "en": "Inglés",
    "es": "Español",
    "vi": "Vietnamita",
    "zh": "Chino",
    "ar": "Árabe",
    "ht": "Criollo haitiano",
    "pt": "Portugués",
    "true": "Sí",
    "false": "No",
}

CRITICALITY_HIGH = "high"

_MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}


def supported(lang: str | None) -> str | None:
    """The copy's language code for `lang` when the copy is written in it; None otherwise."""
    code = (lang or "").strip().casefold().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED_LANGUAGES else None


def language_from_text(text: str | None) -> str | None:
    """A language name or tag as an EHR shows it ("Spanish", "es-MX", "Español") -> "es"; None if unknown."""
    words = (text or "").strip().casefold()
    if not words:
        return None
    return _LANGUAGE_NAMES.get(words) or _LANGUAGE_NAMES.get(words.replace("_", "-").split("-")[0].split()[0])


def choose_language(*candidates: str | None) -> str:
    """The first candidate the copy is written in (codes or names), else English."""
    for candidate in candidates:
        code = supported(candidate) or language_from_text(candidate)
        if code:
            return code
    return DEFAULT_LANGUAGE


# The family's own pages (issue 18): short sentences, the family's "you", no clinical shorthand.
FAMILY_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "page_title": "Our plan",
        "signed_in_as": "Signed in as",
        "language": "Language",
        "print": "Print",
        "no_plan": "Your care team has not shared a plan with you yet. When they sign it, it will be here.",
        "plan_heading": "Our goals and who does what",
        "version_line": "Signed on",
        "next_review": "Next review",
        "since_last_visit": "What changed since your last visit",
        "nothing_changed": "Nothing has changed in the plan since your last visit.",
        "first_visit": "This is your first visit to the plan.",
        "change_new_goal": "New goal",
        "change_changed_goal": "Goal changed",
        "change_removed_goal": "Goal taken out of the plan",
        "change_new_action": "New action",
        "change_changed_action": "Action changed",
        "change_removed_action": "Action taken out of the plan",
        "change_done": "Done",
        "in_words_of": "In the words of",
        "who": "Who",
        "by_when": "By when",
        "status": "Status",
        "status_not-started": "Not started",
        "status_in-progress": "In progress",
        "status_done": "Done",
        "status_blocked": "Stuck",
        "status_cancelled": "Cancelled",
        "your_action": "Your action",
        "your_answer": "Your answer",
        "you_agreed": "You agreed",
        "you_asked_change": "You asked for a change",
        "you_disagreed": "You disagreed",
        "recorded_for_you": "recorded for you by",
        "agree": "I agree",
        "ask_change": "Ask for a change",
        "disagree": "I disagree",
        "change_words": "What would you like instead? (in your own words)",
        "disagree_words": "Why? (in your own words)",
        "send": "Send",
        "mark_done": "Mark as done",
        "need_help": "I need help with this",
        "help_words": "What do you need?",
        "help_open": "You asked for help",
        "questions": "Questions for our next visit",
        "question_words": "Your question",
        "add_question": "Add the question",
        "no_questions": "No questions yet.",
        "answered": "Answered",
        "waiting": "Waiting for the care team",
        "about_us": "About us",
        "propose_change": "Propose a change to About us",
        "which_part": "Which part",
        "new_words": "The new words",
        "proposals": "Changes you proposed",
        "accepted": "Accepted",
        "declined": "To talk over at the next visit",
        "who_to_call": "Who to call",
        "emergency": "In an emergency",
        "sent_position": "Thank you. Your care team will see your answer.",
        "sent_request": "Thank you. Your care team will see it.",
        "sent_done": "Marked as done. Your care team will see it.",
        "review_note": "Your answers go to your care team for the next version of the plan; the signed plan stays as it was signed.",
        "access_rule": "Who can see this plan",
        "no_actions": "No actions for this goal yet.",
        "other_actions": "Other actions",
        "conflict_title": "The plan changed while you were reading",
        "conflict_text": "Your care team changed this part of the plan a moment ago, so your answer was not saved. "
                         "Look at it again and answer once more.",
        "conflict_back": "Back to our plan",
    },
    "es": {
        "page_title": "Nuestro plan",
        "signed_in_as": "Sesión iniciada como",
        "language": "Idioma",
        "print": "Imprimir",
        "no_plan": "Su equipo de atención todavía no ha compartido un plan con usted. Cuando lo firmen, aparecerá aquí.",
        "plan_heading": "Nuestras metas y quién hace qué",
        "version_line": "Firmado el",
        "next_review": "Próxima revisión",
        "since_last_visit": "Qué cambió desde su última visita",
        "nothing_changed": "Nada ha cambiado en el plan desde su última visita.",
        "first_visit": "Esta es su primera visita al plan.",
        "change_new_goal": "Meta nueva",
        "change_changed_goal": "Meta cambiada",
        "change_removed_goal": "Meta retirada del plan",
        "change_new_action": "Acción nueva",
        "change_changed_action": "Acción cambiada",
        "change_removed_action": "Acción retirada del plan",
        "change_done": "Hecho",
        "in_words_of": "En palabras de",
        "who": "Quién",
        "by_when": "Para cuándo",
        "status": "Estado",
        "status_not-started": "Sin empezar",
        "status_in-progress": "En curso",
        "status_done": "Hecho",
        "status_blocked": "Detenido",
        "status_cancelled": "Cancelado",
        "your_action": "Su acción",
        "your_answer": "Su respuesta",
        "you_agreed": "Usted está de acuerdo",
        "you_asked_change": "Usted pidió un cambio",
        "you_disagreed": "Usted no está de acuerdo",
        "recorded_for_you": "registrado por",
        "agree": "Estoy de acuerdo",
        "ask_change": "Pedir un cambio",
        "disagree": "No estoy de acuerdo",
        "change_words": "¿Qué le gustaría en su lugar? (con sus propias palabras)",
        "disagree_words": "¿Por qué? (con sus propias palabras)",
        "send": "Enviar",
        "mark_done": "Marcar como hecho",
        "need_help": "Necesito ayuda con esto",
        "help_words": "¿Qué necesita?",
        "help_open": "Usted pidió ayuda",
        "questions": "Preguntas para nuestra próxima visita",
        "question_words": "Su pregunta",
        "add_question": "Agregar la pregunta",
        "no_questions": "Todavía no hay preguntas.",
        "answered": "Respondida",
        "waiting": "Esperando al equipo de atención",
        "about_us": "Sobre nosotros",
        "propose_change": "Proponer un cambio en Sobre nosotros",
        "which_part": "Qué parte",
        "new_words": "Las palabras nuevas",
        "proposals": "Cambios que usted propuso",
        "accepted": "Aceptado",
        "declined": "Para hablarlo en la próxima visita",
        "who_to_call": "A quién llamar",
        "emergency": "En caso de emergencia",
        "sent_position": "Gracias. Su equipo de atención verá su respuesta.",
        "sent_request": "Gracias. Su equipo de atención lo verá.",
        "sent_done": "Marcado como hecho. Su equipo de atención lo verá.",
        "review_note": "Sus respuestas van a su equipo de atención para la próxima versión del plan; el plan firmado queda como se firmó.",
        "access_rule": "Quién puede ver este plan",
        "no_actions": "Todavía no hay acciones para esta meta.",
        "other_actions": "Otras acciones",
        "conflict_title": "El plan cambió mientras usted lo leía",
        "conflict_text": "Su equipo de atención cambió esta parte del plan hace un momento, así que su respuesta no se "
                         "guardó. Mírela otra vez y responda de nuevo.",
        "conflict_back": "Volver a nuestro plan",
    },
}


def labels(lang: str) -> Mapping[str, str]:
    return LABELS.get(lang, LABELS[DEFAULT_LANGUAGE])


def family_labels(lang: str) -> Mapping[str, str]:
    return FAMILY_LABELS.get(lang, FAMILY_LABELS[DEFAULT_LANGUAGE])


def role_label(role: str, lang: str) -> str:
    return ROLE_LABELS.get(lang, ROLE_LABELS[DEFAULT_LANGUAGE]).get(role, role.replace("-", " ").capitalize())


def about_label(link_id: str, lang: str, fallback: str = "") -> str:
    return ABOUT_LABELS.get(lang, ABOUT_LABELS[DEFAULT_LANGUAGE]).get(link_id, fallback or link_id)


def answer_label(code: str, display: str, lang: str) -> str:
    """A coded answer in the copy's language; the code's own display when there is no translation."""
    if lang == "es":
        return ANSWER_LABELS_ES.get(code, display)
    return display


def format_date(value: date | None, lang: str = DEFAULT_LANGUAGE, *, short: bool = False) -> str:
    """"3 March 2026" / "3 de marzo de 2026"; short: "3 Mar 2026" / "3 mar 2026"; "" for no date.

    The one date format of the app: pages, history and change descriptions use the short form."""
    if value is None:
        return ""
    month = _MONTHS.get(lang, _MONTHS[DEFAULT_LANGUAGE])[value.month - 1]
    if short:
        return f"{value.day} {month[:3]} {value.year}"
    if lang == "es":
        return f"{value.day} de {month} de {value.year}"
    return f"{value.day} {month} {value.year}"
