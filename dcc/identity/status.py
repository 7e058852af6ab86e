"""RNIV identity statuses and the transitions the cahier des charges allows (2.3.2; NATIONAL-SERVICES §1).

provisoire → validée (high-trust document) | récupérée (INSi); validée → qualifiée (INSi); récupérée → qualifiée
(high-trust document). A downgrade (INSi answer other than 00, regional policy) goes back to provisoire or validée.
"Tiers de confiance" is a high-trust justification only for an identity received by interoperability flow: it is
never selectable by hand.
"""

from __future__ import annotations

from enum import StrEnum


class IdentityStatus(StrEnum):
    PROVISOIRE = "provisoire"
    RECUPEREE = "recuperee"
    VALIDEE = "validee"
    QUALIFIEE = "qualifiee"


UPGRADES = {
    (IdentityStatus.PROVISOIRE, IdentityStatus.VALIDEE),
    (IdentityStatus.PROVISOIRE, IdentityStatus.RECUPEREE),
    (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE),
    (IdentityStatus.RECUPEREE, IdentityStatus.QUALIFIEE),
}
DOWNGRADE_TARGETS = {IdentityStatus.PROVISOIRE, IdentityStatus.VALIDEE}
HIGH_TRUST = {
    "carte_identite",
    "passeport",
    "titre_sejour",
    "livret_famille",
    "extrait_naissance",
    "tiers_de_confiance",
}
TIERS_DE_CONFIANCE = "tiers_de_confiance"
MANUAL_CHOICES = sorted(HIGH_TRUST - {TIERS_DE_CONFIANCE})


class IdentityRuleError(ValueError):
    """A change the RNIV does not allow; the message names the transition or the justification."""


def check_transition(current: IdentityStatus, new: IdentityStatus, downgrade: bool = False) -> None:
    if downgrade:
        if new not in DOWNGRADE_TARGETS or new == current:
            raise IdentityRuleError(f"downgrade {current} → {new} not allowed (to provisoire or validee)")
        return
    if (current, new) not in UPGRADES:
        allowed = ", ".join(sorted(n for c, n in UPGRADES if c == current)) or "none"
        raise IdentityRuleError(f"transition {current} → {new} not allowed (from {current}: {allowed})")


def check_justificatif(justificatif: str, mode: str) -> None:
    if justificatif not in HIGH_TRUST:
        raise IdentityRuleError(
            f"justificatif {justificatif!r} is not high-trust ({', '.join(sorted(HIGH_TRUST))})"
        )
    if justificatif == TIERS_DE_CONFIANCE and mode != "flux":
        raise IdentityRuleError(
            "« Tiers de confiance » is only set automatically for an identity received by flow"
        )
