"""Refusals of authentication and authorisation. Each carries a stable ``reason`` code: the same string goes into
the ``user.login`` failure event, the HTTP answer and the tests."""

from __future__ import annotations


class AuthError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class LoginRefused(AuthError):
    """A login that does not open a session (bad credentials, bad token, locked account…)."""


class AccessDenied(AuthError):
    """A signed-in user asking for what their role or the patient's care team does not allow."""


class PscRequired(AuthError):
    """A DMP action from a session not opened by Pro Santé Connect (cahier des charges 2.2, point d'attention)."""


class SessionInvalid(AuthError):
    """No session, an unknown, expired or revoked token."""
