"""The launch context from a token response, checked before anything trusts it (R17-R21, R23, R24).

Layer: launch. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import LaunchError

FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")  # FHIR R4 id; anything else never reaches a query or the store


@dataclass(frozen=True, slots=True)
class LaunchContext:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str
    patient_id: str
    encounter_id: str | None
    need_patient_banner: bool
    intent: str | None
    id_token: str | None


def context_from(response: Any, *, requested_scope: str, now: datetime) -> LaunchContext:
    """Validated launch context; raises LaunchError with a message fit for the user."""
    if not isinstance(response, Mapping):
        raise LaunchError("The EHR's token response could not be read.")
    token_type = response.get("token_type")
    access_token = response.get("access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":  # R17
        raise LaunchError("The EHR returned a token of an unsupported type.")
    if not isinstance(access_token, str) or not access_token:
        raise LaunchError("The EHR returned no access token.")
    patient = response.get("patient")
    if not isinstance(patient, str) or not patient:  # R18: no patient picker inside a chart
        raise LaunchError("The EHR did not say which patient this launch is for.")
    if not is_fhir_id(patient):
        raise LaunchError("The EHR named the patient in a way the app cannot use.")
    expires_in = response.get("expires_in")
    expires_at = now + timedelta(seconds=int(expires_in)) if isinstance(expires_in, (int, float)) and expires_in > 0 else None
    granted = response.get("scope")
    # RFC 6749 §5.1: an absent scope means the request was granted as asked
    scope = granted if isinstance(granted, str) and granted.strip() else requested_scope
    encounter = response.get("encounter")
    banner = response.get("need_patient_banner")
    intent = response.get("intent")
    refresh = response.get("refresh_token")
    id_token = response.get("id_token")
    return LaunchContext(
        access_token=access_token,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scope=scope,
        patient_id=patient,
        encounter_id=encounter if is_fhir_id(encounter) else None,  # R20: a bad one is dropped, as a foreign one
        need_patient_banner=banner is not False,  # R23: show the banner unless told not to
        intent=intent if isinstance(intent, str) else None,  # R24: unknown intents open the default view
        id_token=id_token if isinstance(id_token, str) and id_token else None,
    )


def is_fhir_id(value: object) -> bool:
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None
