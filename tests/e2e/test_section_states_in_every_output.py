"""Every section x every state x every output (issue 14): a section the EHR could not give, gave only in
part, or does not offer is said to be so on the summary page, the family copy (HTML and PDF, English and
Spanish), the signed plan's PDF, the CarePlan narrative and the filed note; "none" is said only of a
search that completed and found nothing. The state is the one at the signing: the signed documents are
rendered from what was signed.
"""

from __future__ import annotations

import base64
import re
import subprocess
from dataclasses import dataclass

import pytest

from sandbox.data.characters import CHILD_ID, COORDINATOR_USER_ID, PHYSICIAN_USER_ID
from smart_app import create_app
from smart_app.plan.narrative import NARRATIVE_SECTIONS
from smart_app.plan.record import SECTION_KEYS, SectionState
from smart_app.plan.section_status import section_status
from smart_app.tenants import TenantRegistry
from tests.e2e.test_plan import PlanUser
from tests.support import CLOCK, TODAY, a_tenant

# Each summary section and the resource types its searches read.
SEARCHED_TYPES = {
    "patient": ("RelatedPerson",), "conditions": ("Condition",), "allergies": ("AllergyIntolerance",),
    "medications": ("MedicationRequest", "MedicationStatement"), "procedures": ("Procedure",),
    "equipment": ("Device", "DeviceUseStatement", "DeviceRequest"), "care_team": ("CareTeam",),
    "encounters": ("Encounter",), "services": ("ServiceRequest",), "goals": ("Goal",),
    "care_plans": ("CarePlan",), "documents": ("DocumentReference",),
}
ALL_TYPES = tuple(t for types in SEARCHED_TYPES.values() for t in types)
# The summary sections each output shows (the family copy: emergency box, summary, legal, care team).
FAMILY_COPY_SECTIONS = ("allergies", "conditions", "medications", "equipment", "patient", "documents", "care_team")
NONE_WORDS = ("lists no", "None recorded", "None listed", "no registra", "Ninguno")
EMPTY_PATIENT = "nadia-empty"
FILED_AS = ("CarePlan", "DocumentReference")


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: this is about what the app says, not the store."""
    from smart_app.store import upgrade

    url = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(url)
    return url


def put_sections_in(state: str, sandbox) -> str:
    """Configure the sandbox so that every summary section the app reads ends in `state`; the patient."""
    if state == "failed":
        pattern = "^/fhir/(" + "|".join(ALL_TYPES) + r")(\?|$)"
        sandbox.control("config", {"faults": [{"path_regex": pattern, "status": 500, "times": -1}]})
    elif state == "incomplete":
        sandbox.control("config", {"outcome_warnings": {t: "This list may be incomplete." for t in ALL_TYPES}})
    elif state == "not-offered":  # all but the two types the plan is filed as, so that it can be filed
        sandbox.control("config", {"unsupported_types": [t for t in ALL_TYPES if t not in FILED_AS]})
    elif state == "none":
        sandbox.control("resources", [{"resourceType": "Patient", "id": EMPTY_PATIENT, "active": True,
                                        "name": [{"given": ["Nadia"], "family": "Empty"}], "gender": "female",
                                        "birthDate": "2019-04-02"}])
        return EMPTY_PATIENT
    return CHILD_ID


def expected_state(state: str, key: str) -> SectionState:
    if key == "patient" and state == "incomplete":
        return SectionState.INCOMPLETE
    if state == "not-offered" and set(SEARCHED_TYPES[key]) <= set(FILED_AS):
        return SectionState.COMPLETE
    if key == "patient" and state == "not-offered":
        return SectionState.COMPLETE  # family members are optional; contacts also come from the Patient
    return {"failed": SectionState.FAILED, "incomplete": SectionState.INCOMPLETE,
            "not-offered": SectionState.NOT_OFFERED, "none": SectionState.COMPLETE}[state]


@dataclass
class Documents:
    page: str
    copy_en: str
    copy_es: str
    copy_pdf: str
    signed_pdf: str
    careplan: str
    note: str


def flat(text: str) -> str:
    """Markup and line breaks gone, entities read, whitespace single: what a reader reads."""
    text = re.sub(r"<[^>]+>", " ", text).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return " ".join(text.split())


def pdf_text(body: bytes, tmp_path, name: str) -> str:
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(body)
    # -raw: in the order the text was drawn, so the copy's two columns do not interleave
    return flat(subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout)


def documents_in(state: str, app, settings, sandbox, tmp_path) -> Documents:
    patient = put_sections_in(state, sandbox)
    coordinator = PlanUser(app, sandbox, "coordinator", COORDINATOR_USER_ID, patient=patient)
    clinician = PlanUser(app, sandbox, "clinician", PHYSICIAN_USER_ID, patient=patient)
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Sleep through the night", kind="family")
    coordinator.do("submit-for-review")
    coordinator.do("sign")
    clinician.do("sign")  # the signed record is kept now, in this state
    sandbox.control("config", {"faults": [], "outcome_warnings": {}, "unsupported_types": []})  # the EHR recovers

    client, base = coordinator.client, f"/p/{coordinator.launch_id}"
    put_sections_in(state, sandbox)  # the page reads the EHR now: in the same state
    page = flat(client.get(f"{base}/full").get_data(as_text=True))
    sandbox.control("config", {"faults": [], "outcome_warnings": {}, "unsupported_types": []})
    copy_en = flat(client.get(f"{base}/family-copy?lang=en").get_data(as_text=True))
    copy_es = flat(client.get(f"{base}/family-copy?lang=es").get_data(as_text=True))
    copy_pdf = pdf_text(client.get(f"{base}/family-copy.pdf?lang=en").data, tmp_path, "copy")
    signed_pdf = pdf_text(client.get(f"{base}/filing/pdf").data, tmp_path, "signed")
    careplan = filed(settings, sandbox, patient, "careplan", "CarePlan")
    note = filed(settings, sandbox, patient, "note", "DocumentReference")
    xhtml = next(c["attachment"]["data"] for c in note["content"]
                 if c["attachment"]["contentType"].startswith("application/xhtml"))
    return Documents(page, copy_en, copy_es, copy_pdf, signed_pdf, flat(careplan["text"]["div"]),
                     flat(base64.b64decode(xhtml).decode("utf-8")))


def filed(settings, sandbox, patient: str, write_mode: str, resource_type: str) -> dict:
    """File the signed plan from a newly started app (it has read no capabilities yet); what the EHR holds."""
    app = create_app(settings, TenantRegistry([a_tenant(sandbox, write_mode=write_mode)]), clock=CLOCK)
    try:
        filer = PlanUser(app, sandbox, "coordinator", COORDINATOR_USER_ID, patient=patient)
        base = f"/p/{filer.launch_id}"
        filer.page()
        assert filer.client.post(f"{base}/filing", data={"csrf_token": filer.csrf()}).status_code == 303
        page = filer.client.get(f"{base}/filing").get_data(as_text=True)
        assert 'data-outcome="filed"' in page, page[:3000]
        return read_back(app, filer, resource_type)
    finally:
        app.extensions["spoc"].engine.dispose()


def read_back(app, user: PlanUser, resource_type: str) -> dict:
    from smart_app.security import BROWSER_COOKIE

    state = app.extensions["spoc"]
    session = state.sessions.load(user.launch_id, user.client.get_cookie(BROWSER_COOKIE).value)
    gateway = state.services.summary.ehr.gateway(session, state.tenants.for_iss(session.iss))
    gateway.forget_reads()
    found = gateway.search(resource_type, [("patient", f"Patient/{session.patient_id}")], max_pages=5).resources
    ours = [r for r in found if any(i.get("system", "").startswith("urn:spoc") for i in r.get("identifier", []))]
    assert ours, f"no {resource_type} was filed"
    return dict(ours[-1])


def said(key: str, state: str, lang: str = "en") -> str:
    """The line the output must carry for this section; "" where the section is complete with items."""
    expected = expected_state(state, key)
    if expected is SectionState.COMPLETE and state != "none":
        return ""
    status = section_status(key, expected, shown=0, read_on=TODAY, lang=lang)
    return status.text if status else ""


@pytest.mark.parametrize("state", ["failed", "incomplete", "not-offered", "none"])
def test_each_section_says_its_state_in_every_output(state, app, settings, sandbox, tmp_path):
    docs = documents_in(state, app, settings, sandbox, tmp_path)
    outputs = {
        "summary page": (docs.page, SECTION_KEYS, "en"),
        "family copy": (docs.copy_en, FAMILY_COPY_SECTIONS, "en"),
        "family copy (es)": (docs.copy_es, FAMILY_COPY_SECTIONS, "es"),
        "family copy PDF": (docs.copy_pdf, FAMILY_COPY_SECTIONS, "en"),
        "signed plan PDF": (docs.signed_pdf, NARRATIVE_SECTIONS, "en"),
        "CarePlan narrative": (docs.careplan, NARRATIVE_SECTIONS, "en"),
        "filed note": (docs.note, NARRATIVE_SECTIONS, "en"),
    }
    unknown = [key for key in SECTION_KEYS if expected_state(state, key) is not SectionState.COMPLETE]
    assert all(said(key, state) for key in unknown), "every section not known to be complete has its line"
    missing = [f"{name}: {key}" for name, (text, keys, lang) in outputs.items() for key in keys
               if (line := said(key, state, lang)) and line not in text]
    assert missing == [], f"{state}: these outputs do not say it: {missing}"
    if state != "none":
        wrong = [f"{name}: {word}" for name, (text, _, _) in outputs.items() for word in NONE_WORDS
                 if word in text and not (word == "lists no" and "family members or contacts" in text)]
        assert wrong == [], f"{state}: an output says none for a section that is not known: {wrong}"
