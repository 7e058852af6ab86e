"""RNIV identity statuses and the transitions the cahier des charges allows (2.3.2; NATIONAL-SERVICES §1).

provisoire → validée (high-trust document) | récupérée (INSi); validée → qualifiée (INSi); récupérée → qualifiée
(high-trust document). A downgrade (INSi answer other than 00, regional policy) goes back to provisoire or validée.
"Tiers de confiance" is a high-trust justification only for an identity received by interoperability flow: it is
never selectable by hand.
"""

from __future__ import annotations

from enum import StrEnum

from dcc import faults

faults.register(
    "tiers_de_confiance_by_hand",
    "« Tiers de confiance » is accepted as a justificatif typed by hand (and for a non-qualifiée flow)",
    breaks=["INS.06"],
)
faults.register(
    "rniv_transition_unchecked",
    "any raise of an identity status is accepted, e.g. provisoire straight to qualifiée (RNIV transitions unchecked)",
    breaks=["INS.02"],
)


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
# A downgrade only goes down, and never from récupérée to validée: récupérée carries no checked identity document,
# so losing its INS leaves a provisoire identity (the RNIV has no récupérée → validée step, INS.02).
DOWNGRADES = {
    (IdentityStatus.RECUPEREE, IdentityStatus.PROVISOIRE),
    (IdentityStatus.VALIDEE, IdentityStatus.PROVISOIRE),
    (IdentityStatus.QUALIFIEE, IdentityStatus.PROVISOIRE),
    (IdentityStatus.QUALIFIEE, IdentityStatus.VALIDEE),
}
# The statuses under which the DCC keeps an INS matricule and its OID (obtained or confirmed by INSi).
WITH_INS = {IdentityStatus.RECUPEREE, IdentityStatus.QUALIFIEE}
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


class JustificatifError(IdentityRuleError):
    """A justificatif that cannot be used here (not high-trust, or « Tiers de confiance » by hand)."""


def check_transition(current: IdentityStatus, new: IdentityStatus, downgrade: bool = False) -> None:
    if downgrade:
        if (current, new) not in DOWNGRADES:
            allowed = ", ".join(sorted(n for c, n in DOWNGRADES if c == current)) or "none"
            raise IdentityRuleError(f"downgrade {current} → {new} not allowed (from {current}: {allowed})")
        return
    if (current, new) not in UPGRADES and not faults.active("rniv_transition_unchecked"):
        allowed = ", ".join(sorted(n for c, n in UPGRADES if c == current)) or "none"
        raise IdentityRuleError(f"transition {current} → {new} not allowed (from {current}: {allowed})")


def check_justificatif(justificatif: str, mode: str, received_status: str | None = None) -> None:
    """``mode`` is how the identity that brings the justificatif reached the DCC (``saisie`` or ``flux``); « Tiers
    de confiance » only comes with a qualifiée identity received by flow (2.3.2.1, 2.3.2.3)."""
    if justificatif not in HIGH_TRUST:
        raise JustificatifError(
            f"justificatif {justificatif!r} is not high-trust ({', '.join(sorted(HIGH_TRUST))})"
        )
    if justificatif == TIERS_DE_CONFIANCE and faults.active("tiers_de_confiance_by_hand"):
        return
    if justificatif == TIERS_DE_CONFIANCE and mode != "flux":
        raise JustificatifError(
            "« Tiers de confiance » is only set automatically for an identity received by flow"
        )
    if justificatif == TIERS_DE_CONFIANCE and received_status not in (None, IdentityStatus.QUALIFIEE):
        raise JustificatifError("« Tiers de confiance » only for an identity received qualifiée")


def downgrade_target(current: IdentityStatus, policy: str, has_justificatif: bool) -> IdentityStatus | None:
    """Where an INSi answer other than 00 takes an identity under the regional policy (``provisoire`` or
    ``validee``, 2.3.2.3), or None when it stays as it is (already at or under the policy's status).

    validée is a fallback only for a qualifiée identity that has its high-trust justificatif; récupérée always falls
    back to provisoire (see DOWNGRADES)."""
    if policy not in ("provisoire", "validee"):
        raise IdentityRuleError(f"downgrade policy {policy!r}: provisoire or validee")
    if current is IdentityStatus.PROVISOIRE:
        return None
    if current is IdentityStatus.RECUPEREE:
        return IdentityStatus.PROVISOIRE
    if current is IdentityStatus.VALIDEE:
        return IdentityStatus.PROVISOIRE if policy == "provisoire" else None
    if policy == "validee" and has_justificatif:
        return IdentityStatus.VALIDEE
    return IdentityStatus.PROVISOIRE
