"""INSi simulator (SOAP 1.2, WSDL 1.5.0 operations rechercherInsAvecTraitsIdentite / rechercherInsAvecCarteVitale)."""

from harness.simulators.insi.identities import DEFAULT_IDENTITIES, Identity, IdentityBaseError, ins_key
from harness.simulators.insi.server import InsiSimulator

__all__ = ["DEFAULT_IDENTITIES", "Identity", "IdentityBaseError", "InsiSimulator", "ins_key"]
