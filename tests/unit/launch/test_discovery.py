"""Discovery documents are checked against the tenant's pinned hosts (R3, R4, R5)."""

import pytest

from smart_app.errors import LaunchError
from smart_app.launch.discovery import configuration_from
from smart_app.tenants import Tenant

TENANT = Tenant(name="EHR", iss="https://ehr.example.org/fhir/r4", client_id="c", redirect_uri="https://app/cb",
                auth_hosts=("login.example.org",))


def document(**overrides):
    doc = {"authorization_endpoint": "https://ehr.example.org/auth/authorize",
           "token_endpoint": "https://ehr.example.org/auth/token",
           "capabilities": ["launch-ehr", "permission-v2", "context-passthrough-banner", 42],
           "code_challenge_methods_supported": ["S256"], "issuer": "https://ehr.example.org/fhir/r4"}
    doc.update(overrides)
    return doc


def test_endpoints_on_the_pinned_hosts_are_accepted_and_unknown_capabilities_ignored():
    config = configuration_from(document(token_endpoint="https://login.example.org/token"), TENANT)
    assert config.token_endpoint == "https://login.example.org/token"
    assert config.permission_v2 and "context-passthrough-banner" in config.capabilities


def test_relative_endpoints_are_resolved_against_the_fhir_base_before_the_pin_check():
    config = configuration_from(document(authorization_endpoint="auth/authorize", token_endpoint="/oauth/token"), TENANT)
    assert config.authorization_endpoint == "https://ehr.example.org/fhir/r4/auth/authorize"
    assert config.token_endpoint == "https://ehr.example.org/oauth/token"


@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint"])
def test_an_endpoint_on_another_host_is_refused(field):
    with pytest.raises(LaunchError):
        configuration_from(document(**{field: "https://attacker.example.net/x"}), TENANT)


@pytest.mark.parametrize("bad", [None, [], "x", document(token_endpoint=None), document(authorization_endpoint="")])
def test_malformed_documents_are_refused_with_a_clear_error(bad):
    with pytest.raises(LaunchError):
        configuration_from(bad, TENANT)


def test_plain_http_endpoints_are_refused_for_an_https_ehr():
    with pytest.raises(LaunchError):
        configuration_from(document(token_endpoint="http://ehr.example.org/auth/token"), TENANT)
