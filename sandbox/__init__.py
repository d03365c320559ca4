"""A local SMART on FHIR sandbox EHR (authorization server, FHIR R4 endpoint, chart pages).

Layer: sandbox, a test double of a real EHR used by `spoc demo`, the end-to-end and browser tests
and the benchmarks. `smart_app` never imports it.
"""

from sandbox.app import create_sandbox
from sandbox.config import (
    Fault,
    PortalAccount,
    SandboxClient,
    SandboxConfig,
    SandboxUser,
)

__all__ = ["Fault", "PortalAccount", "SandboxClient", "SandboxConfig", "SandboxUser", "create_sandbox"]
