"""Tenants file: exact-iss lookup (R1, R60) and line-by-line validation for `spoc tenants check`."""

from pathlib import Path

import pytest

from smart_app.cli import main
from smart_app.errors import UnknownIssuer
from smart_app.tenants import Tenant, TenantRegistry, check_tenants_file, normalize_iss

GOOD = """
[[tenant]]
name = "Children's Hospital (Epic)"
iss = "https://fhir.childrens.example.org/api/FHIR/R4"
client_id = "spoc-prod"
redirect_uri = "https://spoc.example.org/callback"
frame_ancestors = ["https://ehr.childrens.example.org"]
write_mode = "note"
[tenant.quirks]
include_supported = false
page_size = 50

[[tenant]]
name = "Community Clinic"
iss = "https://ehr.clinic.example.org/fhir"
client_id = "spoc-clinic"
client_type = "confidential-symmetric"
client_secret_env = "SPOC_CLINIC_SECRET"
redirect_uri = "https://spoc.example.org/callback"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    return path


def test_a_valid_tenants_file_loads_every_tenant_with_its_quirks(tmp_path):
    registry = TenantRegistry.load(write(tmp_path, GOOD))
    epic = registry.for_iss("https://fhir.childrens.example.org/api/FHIR/R4")
    assert epic.quirks.include_supported is False
    assert epic.quirks.page_size == 50
    assert registry.for_iss("https://ehr.clinic.example.org/fhir").client_type == "confidential-symmetric"


def test_lookup_is_by_exact_iss_apart_from_case_of_host_and_a_trailing_slash(tmp_path):
    registry = TenantRegistry.load(write(tmp_path, GOOD))
    assert registry.for_iss("https://EHR.clinic.example.org/fhir/").name == "Community Clinic"
    for forged in ("https://ehr.clinic.example.org/fhir2", "https://ehr.clinic.example.org.evil.test/fhir",
                   "http://ehr.clinic.example.org/fhir", "", None):
        with pytest.raises(UnknownIssuer):
            registry.for_iss(forged)


def test_two_sites_of_one_vendor_keep_their_own_settings():
    a = Tenant(name="A", iss="https://a.example/fhir", client_id="one", redirect_uri="https://app/cb",
               write_mode="careplan", frame_ancestors=("https://a.example",))
    b = Tenant(name="B", iss="https://b.example/fhir", client_id="two", redirect_uri="https://app/cb",
               write_mode="none", frame_ancestors=("https://b.example",))
    registry = TenantRegistry([a, b])
    assert registry.for_iss(a.iss).client_id == "one" and registry.for_iss(b.iss).write_mode == "none"


def test_check_reports_each_problem_with_its_line(tmp_path):
    bad = write(tmp_path, """[[tenant]]
name = "Broken"
iss = "not a url"
client_id = "x"
redirect_uri = "https://spoc.example.org/callback"
client_type = "confidential-asymmetric"
client_secret = "oops"
write_mode = "everything"
frame_ancestors = ["https://ok.example", "javascript:alert(1)"]
[tenant.quirks]
page_size = 0
teleport = true
""")
    problems, tenants = check_tenants_file(bad)
    assert tenants == []
    text = "\n".join(problems)
    assert f"{bad}:3: tenant #1: iss: must be an absolute http(s) URL" in text
    assert ":7: tenant #1: client_secret: secrets must not be in this file" in text
    assert ":8: tenant #1: write_mode" in text
    assert ":9: tenant #1: frame_ancestors" in text
    assert "private_key_env: is required" in text
    assert ":11: tenant #1: quirks.page_size: must be at least 1" in text
    assert ":12: tenant #1: quirks.teleport: is not a known quirk" in text


def test_duplicate_iss_is_a_problem(tmp_path):
    problems, _ = check_tenants_file(write(tmp_path, GOOD + GOOD.split("[[tenant]]")[1].join(["[[tenant]]", ""])))
    assert any("the same iss as tenant #1" in p for p in problems)


def test_spoc_tenants_check_exits_non_zero_and_prints_problems(tmp_path, capsys):
    assert main(["tenants", "check", str(write(tmp_path, "[[tenant]]\nname = 'x'\n"))]) == 1
    out = capsys.readouterr().out
    assert "iss: is required" in out and "problem(s) found" in out
    assert main(["tenants", "check", str(write(tmp_path, GOOD))]) == 0
    assert "OK: 2 tenant(s)" in capsys.readouterr().out


def test_normalize_iss_keeps_the_path_case():
    assert normalize_iss("HTTPS://Ehr.Example/FHIR/R4/") == "https://ehr.example/FHIR/R4"


def test_a_misspelt_setting_or_an_unknown_signing_alg_is_a_problem_with_its_line(tmp_path, capsys):
    typo = write(tmp_path, """[[tenant]]
name = "Typo EHR"
iss = "https://ehr.example.org/fhir"
client_id = "spoc"
redirect_uri = "https://spoc.example.org/callback"
client_tpye = "confidential-asymmetric"
signing_alg = "ES348"
""")
    assert main(["tenants", "check", str(typo)]) == 1  # not "OK: 1 tenant(s)" with a silently public client
    out = capsys.readouterr().out
    assert f"{typo}:6: tenant #1: client_tpye: is not a known setting" in out
    assert f"{typo}:7: tenant #1: signing_alg: must be one of RS384, ES384" in out


ONE_TENANT = """[[tenant]]
name = "Clinic"
iss = "https://ehr.example.org/fhir"
client_id = "spoc"
redirect_uri = "https://spoc.example.org/callback"
"""


@pytest.mark.parametrize(("line", "key"), [
    ('client_type = "Public"', "client_type"),
    ('write_mode = "CarePlan"', "write_mode"),
    ('signing_alg = "HS256"', "signing_alg"),
    ('client_secret_env = ["A"]', "client_secret_env"),
    ("private_key_env = 1", "private_key_env"),
    ("name = 7", "name"),
    ('ehr_careplan_view = "https://ehr.example.org/careplan"', "ehr_careplan_view"),  # no {id}
    ('ehr_careplan_view = "javascript:alert({id})"', "ehr_careplan_view"),
    ('family_launch = "yes"', "family_launch"),
    ('adolescent_parent_access = "maybe"', "adolescent_parent_access"),
    ("adolescent_age = 30", "adolescent_age"),
])
def test_every_bad_value_is_a_problem_with_its_line_whatever_the_client_type(tmp_path, line, key):
    text = ONE_TENANT.replace('name = "Clinic"\n', "") if key == "name" else ONE_TENANT
    path = write(tmp_path, text + line + "\n")
    problems, tenants = check_tenants_file(path)
    assert tenants == []
    line_number = len(text.splitlines()) + 1
    assert any(p.startswith(f"{path}:{line_number}: tenant #1: {key}:") for p in problems), problems


def test_the_ehrs_own_careplan_view_takes_the_id_quoted(tmp_path):
    path = write(tmp_path, ONE_TENANT + 'ehr_careplan_view = "https://ehr.example.org/chart/careplan/{id}?tab=1"\n')
    problems, (tenant,) = check_tenants_file(path)
    assert problems == []
    assert tenant.careplan_view("abc-1") == "https://ehr.example.org/chart/careplan/abc-1?tab=1"
    assert tenant.careplan_view("a/b?c") == "https://ehr.example.org/chart/careplan/a%2Fb%3Fc?tab=1"
    assert Tenant("x", "https://e/fhir", "c", "https://a/cb").careplan_view("abc") == ""


def test_the_family_door_is_closed_unless_a_site_opens_it_and_a_parents_access_to_a_teen_asks_by_default(tmp_path):
    problems, (closed,) = check_tenants_file(write(tmp_path, ONE_TENANT))
    assert problems == [] and closed.family_launch is False
    assert (closed.adolescent_parent_access, closed.adolescent_age) == ("ask", 12)
    text = ONE_TENANT + 'family_launch = true\nadolescent_parent_access = "off"\nadolescent_age = 14\n'
    problems, (opened,) = check_tenants_file(write(tmp_path, text))
    assert problems == []
    assert (opened.family_launch, opened.adolescent_parent_access, opened.adolescent_age) == (True, "off", 14)
