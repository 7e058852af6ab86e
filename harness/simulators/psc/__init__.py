"""Pro Santé Connect simulator (OpenID Connect provider with PKCE, PSC claims, JWKS, token exchange)."""

from harness.simulators.psc.practitioners import DEFAULT_PRACTITIONERS, Practitioner
from harness.simulators.psc.server import PscSimulator

__all__ = ["DEFAULT_PRACTITIONERS", "Practitioner", "PscSimulator"]
