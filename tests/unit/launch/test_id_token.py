"""id_token checks (R22) against the app's clock, with a little room for an EHR's clock running ahead."""

import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from smart_app.errors import LaunchError
from smart_app.launch.oauth import CLOCK_SKEW_S, validate_id_token

ISSUER, CLIENT, BASE = "https://ehr.test/fhir", "spoc", "https://ehr.test/fhir"
NOW = 1_900_000_000


class Answer:
    """The JWKS answer as requests gives it: the app reads its bytes through its JSON limits."""

    def __init__(self, body):
        self.body = body
        self.content = json.dumps(body).encode()

    def json(self):
        return self.body


@pytest.fixture(scope="module")
def key():
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def token(key, **claims) -> str:
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "u1", "iat": NOW, "exp": NOW + 300,
            "fhirUser": "Practitioner/u1", **claims}
    return jwt.encode({"alg": "RS384", "kid": "k1"}, body, key, algorithms=["RS384"])


def check(key, id_token: str, now: float = NOW) -> str | None:
    keys = KeySet([key]).as_dict(private=False)
    return validate_id_token(id_token, jwks_uri="https://ehr.test/jwks", issuer=ISSUER, client_id=CLIENT, iss=BASE,
                             timeout_s=1, now=now, http_get=lambda url, timeout: Answer(keys))


def test_a_valid_token_gives_the_absolute_fhir_user(key):
    assert check(key, token(key)) == f"{BASE}/Practitioner/u1"


def test_an_ehr_clock_slightly_ahead_is_tolerated_but_not_a_token_from_the_far_future(key):
    assert check(key, token(key, iat=NOW + CLOCK_SKEW_S - 5))
    with pytest.raises(LaunchError):
        check(key, token(key, iat=NOW + CLOCK_SKEW_S + 60))


def test_an_expired_token_is_refused_by_the_apps_clock_not_the_system_clock(key):
    assert check(key, token(key, exp=NOW + 10), now=NOW)
    with pytest.raises(LaunchError):
        check(key, token(key, exp=NOW + 10), now=NOW + 10 + CLOCK_SKEW_S + 1)


def test_a_token_for_another_client_is_refused(key):
    with pytest.raises(LaunchError):
        check(key, token(key, aud="someone-else"))
