"""The medical summary against the sandbox: everything active shows, nothing wrong shows, failures stay
local, and the coordinator's curation survives a relaunch (issue 3)."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from sandbox.data.characters import PATIENT_IDS, build_resources
from tests.support import TODAY, launch, launch_id_of
from tests.conftest import ON_BOTH_EHRS

RECORD = build_resources(TODAY)
BY_REF = {f"{r['resourceType']}/{r['id']}": r for r in RECORD}

pytestmark = [ON_BOTH_EHRS]  # the sandbox, and the independent engine behind its SMART front door


def stream(client, launch_id: str, query: str = "") -> dict[str, str]:
    response = client.get(f"/p/{launch_id}/sections{query}")
    assert response.status_code == 200
    return {m["key"]: m["html"] for m in map(json.loads, response.get_data(as_text=True).splitlines())}


def of_patient(resource: dict, patient_id: str) -> bool:
    ref = f"Patient/{patient_id}"
    return any((resource.get(k) or {}).get("reference") == ref for k in ("subject", "patient"))


def code(resource: dict, *fields: str) -> str:
    return next(((resource.get(f) or {}).get("coding", [{}])[0].get("code", "") for f in fields if resource.get(f)), "")


def text(concept: dict | None) -> str:
    concept = concept or {}
    return concept.get("text") or concept.get("coding", [{}])[0].get("display", "")


def medication_name(request: dict) -> str:
    if request.get("medicationCodeableConcept"):
        return text(request["medicationCodeableConcept"])
    ref = request["medicationReference"]["reference"]
    if ref.startswith("#"):
        return text(next(c for c in request["contained"] if c["id"] == ref[1:])["code"])
    return text(BY_REF[ref]["code"])


def expected_active(patient_id: str) -> dict[str, set[str]]:
    """What the summary must show as current, worked out from the sandbox's own data."""
    mine = [r for r in RECORD if of_patient(r, patient_id)]
    kind = lambda t: [r for r in mine if r["resourceType"] == t]  # noqa: E731
    wrong = lambda r: "entered-in-error" in json.dumps(r.get("verificationStatus", {})) or r.get("status") == "entered-in-error"  # noqa: E731
    expected = {
        "conditions": {text(r["code"]) for r in kind("Condition")
                       if code(r, "clinicalStatus") == "active" and not wrong(r)},
        "medications": {medication_name(r) for r in kind("MedicationRequest") if r["status"] in ("active", "on-hold")},
        "allergies": {text(r["code"]) for r in kind("AllergyIntolerance") if code(r, "clinicalStatus") == "active"},
        "procedures": {text(r["code"]) for r in kind("Procedure") if r["status"] == "completed"},
        "equipment": {text(r["type"]) for r in kind("Device") if r["status"] == "active"}
        | {text(r["codeCodeableConcept"]) for r in kind("DeviceRequest") if r["status"] == "active"},
        "care_team": set(),
    }
    for team in kind("CareTeam"):
        for participant in team.get("participant", []):
            member = BY_REF.get(participant.get("member", {}).get("reference", ""), {})
            if member.get("resourceType") == "PractitionerRole":
                expected["care_team"].add(BY_REF[member["practitioner"]["reference"]]["name"][0]["family"])
    return expected


@pytest.mark.parametrize("patient_id", PATIENT_IDS)
def test_every_active_item_of_every_sandbox_patient_appears(client, sandbox, patient_id):
    html = stream(client, launch_id_of(launch(client, sandbox, patient_id)))
    expected = expected_active(patient_id)
    assert expected["conditions"] and expected["medications"] and expected["care_team"]
    for section, labels in expected.items():
        current = html[section].split("Stopped or resolved")[0]
        for label in labels:
            assert str(escape(label)) in current, f"{label!r} missing from {section}"


def test_entered_in_error_never_appears_and_stopped_medications_are_not_active(client, sandbox):
    html = stream(client, launch_id_of(launch(client, sandbox, "sofia-rivera")))
    mine = [r for r in RECORD if of_patient(r, "sofia-rivera")]
    everything = "".join(html.values())
    for r in mine:
        if "entered-in-error" in json.dumps(r):
            label = text(r.get("code")) if r["resourceType"] == "Condition" else medication_name(r) \
                if r["resourceType"] == "MedicationRequest" else ""
            if label and not any(label == text(o.get("code")) for o in mine if o is not r and "entered-in-error" not in json.dumps(o)):
                assert str(escape(label)) not in everything
    stopped = [medication_name(r) for r in mine if r["resourceType"] == "MedicationRequest" and r["status"] == "stopped"]
    active_part = html["medications"].split("Stopped or resolved")[0]
    assert stopped and all(str(escape(name)) not in active_part for name in stopped)


def test_hostile_text_in_the_record_is_escaped(client, sandbox):
    html = "".join(stream(client, launch_id_of(launch(client, sandbox, "daniel-oconnor"))).values())
    assert "<script>alert(1)</script>" not in html and "<img" not in html
    assert "&lt;b&gt;" in html or "&lt;script&gt;" in html or "&amp;" in html


def test_summary_shows_ed_visits_and_admissions_of_the_last_year(client, sandbox):
    html = stream(client, launch_id_of(launch(client, sandbox, "sofia-rivera")))["encounters"]
    values = dict((label.strip(), int(n)) for n, label in re.findall(r"<strong>(\d+)</strong>([^<]+)", html))
    assert values["ED visits, last 12 months"] >= 2 and values["Admissions, last 12 months"] >= 1


def test_one_failing_search_fails_only_its_section_and_retry_recovers(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    sandbox.control("config", {"faults": [{"path_regex": r"^/fhir/AllergyIntolerance", "status": 500, "times": -1}]})
    html = stream(client, launch_id)
    assert 'data-state="failed"' in html["allergies"] and "Try again" in html["allergies"]
    assert 'data-state="complete"' in html["conditions"] and 'data-state="complete"' in html["medications"]
    assert 'data-state="failed"' in html["glance-allergies"] and "could not be loaded" in html["glance-allergies"]
    sandbox.control("config", {"faults": []})
    retried = stream(client, launch_id, "?only=allergies")
    # the retried section, and the part of the first screen it feeds
    assert set(retried) == {"allergies", "glance-allergies", "done"} and 'data-state="complete"' in retried["allergies"]
    assert "Latex" in retried["glance-allergies"] and 'data-state="complete"' in retried["glance-allergies"]


def test_an_operation_outcome_in_a_searchset_becomes_a_note_not_an_item(client, sandbox, plain_sandbox_only):
    sandbox.control("config", {"outcome_warnings": {"Condition": "Some problems are restricted"}})
    html = stream(client, launch_id_of(launch(client, sandbox, "sofia-rivera")))["conditions"]
    assert "may be incomplete" in html and "restricted" not in html


def test_include_ignored_by_the_server_still_names_every_medication(client, sandbox, plain_sandbox_only):
    sandbox.control("config", {"include_supported": False})
    html = stream(client, launch_id_of(launch(client, sandbox, "sofia-rivera")))["medications"]
    for name in expected_active("sofia-rivera")["medications"]:
        assert str(escape(name)) in html
    assert "name not available" not in html


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_curation_is_kept_across_relaunches_and_needs_the_csrf_token(app, client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    html = stream(client, launch_id)
    token = csrf_of(html["conditions"])
    ref = re.search(r'data-ref="(Condition/[^"]+)"', html["conditions"]).group(1)
    assert client.post(f"/p/{launch_id}/items/hide", data={"ref": ref, "reason": "duplicate"}).status_code == 400
    assert client.post(f"/p/{launch_id}/items/hide", data={"ref": ref, "reason": "duplicate entry",
                                                            "csrf_token": token, "section": "conditions"}).status_code == 303
    device = re.search(r'data-ref="([^"]+)"', html["equipment"]).group(1)
    client.post(f"/p/{launch_id}/items/note", data={"ref": device, "note": "Spare <b>battery</b> at school",
                                                     "csrf_token": token})
    client.post(f"/p/{launch_id}/added", data={"section": "equipment", "label": "Feeding pump backpack",
                                                "contact": "Acme DME (555) 555-0199", "csrf_token": token})
    relaunched = app.test_client()  # another day, another browser: a new launch for the same patient
    again = stream(relaunched, launch_id_of(launch(relaunched, sandbox, "sofia-rivera")))
    assert "Left out of the plan: duplicate entry" in again["conditions"]
    assert f'data-ref="{ref}"' in again["conditions"].split("Left out of the plan (")[1]
    assert "Spare &lt;b&gt;battery&lt;/b&gt; at school" in again["equipment"]
    assert "Feeding pump backpack" in again["equipment"] and "Added by" in again["equipment"]


def test_curation_of_one_patient_never_shows_on_another(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    token = csrf_of(stream(client, launch_id)["equipment"])
    client.post(f"/p/{launch_id}/added", data={"section": "equipment", "label": "Sofia's stander",
                                                "csrf_token": token})
    other = stream(client, launch_id_of(launch(client, sandbox, "leo-tran")))
    assert "stander" not in other["equipment"]


def test_bad_curation_input_gets_a_clear_error(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    token = csrf_of(stream(client, launch_id)["equipment"])
    for path, data in (("items/hide", {"ref": "Condition/x", "reason": ""}),
                       ("added", {"section": "medications", "label": "x"}),
                       ("items/note", {"ref": "", "note": "x"})):
        response = client.post(f"/p/{launch_id}/{path}", data={**data, "csrf_token": token})
        assert response.status_code == 400
        assert "notice-error" in response.get_data(as_text=True)


def test_an_added_item_can_be_removed_again(client, sandbox):
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    token = csrf_of(stream(client, launch_id)["services"])
    client.post(f"/p/{launch_id}/added", data={"section": "services", "label": "Respite care, Saturdays",
                                                "csrf_token": token})
    html = stream(client, launch_id)["services"]
    remove = re.search(r'action="([^"]+/remove)"', html).group(1)
    assert client.post(remove, data={"csrf_token": token, "section": "services"}).status_code == 303
    assert "Respite care" not in stream(client, launch_id)["services"]


def test_include_ignored_by_the_server_resolves_references_in_one_id_search_per_type(client, sandbox,
                                                                                    plain_sandbox_only):
    sandbox.control("config", {"include_supported": False})
    launch_id = launch_id_of(launch(client, sandbox, "sofia-rivera"))
    sandbox.control("requests/clear")
    html = stream(client, launch_id)
    log = sandbox.fhir_requests()
    reads = [r["path"].split("/")[2] for r in log if r["path"].count("/") == 3 and "/Patient/" not in r["path"]]
    id_searches = [r["path"].split("/")[2] for r in log if "_id=" in r["query"]]
    assert "Practitioner" in id_searches and all(r["status"] == 200 for r in log)
    assert len(reads) == len(set(reads))  # a type read more than once would have been one search
    for name in expected_active("sofia-rivera")["medications"]:
        assert str(escape(name)) in html["medications"]
