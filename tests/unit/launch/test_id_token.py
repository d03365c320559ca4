"""id_token checks (R22) against the app's clock, with a little room for an EHR's clock running ahead."""

import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from smart_app.errors import LaunchError
from smart_app.launch.discovery import CACHE_SECONDS, KEYS_REFETCH_AFTER_S, DiscoveryClient
from smart_app.launch.oauth import CLOCK_SKEW_S, validate_id_token

ISSUER, CLIENT, BASE = "https://ehr.test/fhir", "spoc", "https://ehr.test/fhir"
JWKS_URI = "https://ehr.test/jwks"
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


def token(key, kid: str = "k1", **claims) -> str:
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "u1", "iat": NOW, "exp": NOW + 300,
            "fhirUser": "Practitioner/u1", **claims}
    return jwt.encode({"alg": "RS384", "kid": kid}, body, key, algorithms=["RS384"])


class KeyServer:
    """The EHR's jwks_uri: serves the public half of `keys`, counting each fetch."""

    def __init__(self, *keys):
        self.keys = list(keys)
        self.fetches = 0

    def get(self, url, timeout):
        assert url == JWKS_URI
        self.fetches += 1
        return Answer(KeySet(self.keys).as_dict(private=False))


class Monotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def ehr_keys(key) -> tuple[KeyServer, Monotonic, DiscoveryClient]:
    """The EHR's key endpoint serving `key`, the app's monotonic clock, and the app's discovery client."""
    server, clock = KeyServer(key), Monotonic()
    return server, clock, DiscoveryClient(timeout_s=1, http_get=server.get, monotonic=clock)


def check(key, id_token: str, now: float = NOW) -> str | None:
    discovery = DiscoveryClient(timeout_s=1, http_get=KeyServer(key).get)
    return verify(discovery, id_token, now=now)


def verify(discovery: DiscoveryClient, id_token: str, now: float = NOW) -> str | None:
    return validate_id_token(id_token, issuer=ISSUER, client_id=CLIENT, iss=BASE, now=now,
                             key_set=lambda fresh: discovery.key_set(JWKS_URI, fresh=fresh))


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


# --- the issuer's keys, cached (one fetch for many launches) and fetched anew when the EHR rotates them ---

def test_many_launches_fetch_the_issuers_keys_once_until_the_cache_ages(key):
    server, clock, discovery = ehr_keys(key)
    for _ in range(5):
        assert verify(discovery, token(key)) == f"{BASE}/Practitioner/u1"
    assert server.fetches == 1
    clock.now += CACHE_SECONDS + 1
    assert verify(discovery, token(key))
    assert server.fetches == 2


def test_a_token_signed_by_a_rotated_key_fetches_the_keys_again_and_passes(key):
    server, clock, discovery = ehr_keys(key)
    assert verify(discovery, token(key))
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    server.keys = [rotated, key]
    clock.now += KEYS_REFETCH_AFTER_S + 1
    assert verify(discovery, token(rotated, kid="k2", fhirUser="Practitioner/u2")) == f"{BASE}/Practitioner/u2"
    assert server.fetches == 2
    assert verify(discovery, token(key))  # the old key still served during the rotation
    assert server.fetches == 2


def test_forged_tokens_in_a_row_fetch_the_keys_again_at_most_once_in_the_refetch_interval(key):
    server, clock, discovery = ehr_keys(key)
    assert verify(discovery, token(key))
    forger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    clock.now += KEYS_REFETCH_AFTER_S + 1
    for _ in range(10):
        with pytest.raises(LaunchError, match="could not be verified"):
            verify(discovery, token(forger))
    assert server.fetches == 2
