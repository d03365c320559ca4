"""The app's error tree. str(err) is shown to the user: no tokens, no PHI, no stack traces.

Layer: shell services. Imports: stdlib only.
"""

from __future__ import annotations


class SmartAppError(Exception):
    """Root of every error the app turns into a friendly page."""

    http_status = 500
    relaunch_hint = False
    title = "Something went wrong"


class ConfigError(SmartAppError):
    title = "The app is not configured correctly"


class LaunchError(SmartAppError):
    http_status = 400
    relaunch_hint = True
    title = "The app could not be launched"


class UnknownIssuer(LaunchError):
    title = "This EHR is not set up for the Shared Plan of Care"


class AuthorizationDenied(LaunchError):
    title = "The EHR did not authorize the app"


class SessionExpired(LaunchError):
    http_status = 401
    title = "This session has ended"


class NotForThisUser(SmartAppError):
    """A page or action that is not for the person signed in (a family login on a professional page)."""

    http_status = 403
    title = "This page is not available to you"


class FhirAccessError(SmartAppError):
    http_status = 502
    title = "The EHR could not be reached"


class TokenExpired(FhirAccessError):
    http_status = 401
    relaunch_hint = True
    title = "Access to the EHR has expired"


class ScopeDenied(FhirAccessError):
    http_status = 403
    title = "The EHR did not grant access to this"


class ForeignUrl(FhirAccessError):
    title = "Refused to contact another server"


class VersionConflict(SmartAppError):
    http_status = 409
    title = "Someone else changed this"


class InvalidInput(SmartAppError):
    http_status = 400
    title = "That request could not be understood"
