"""Test practitioners of the PSC simulator: who can log in, with the PSC UserInfo claims (NATIONAL-SERVICES §4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Practitioner:
    rpps: str  # 11 digits
    family_name: str
    given_name: str
    profession: str = "10"  # médecin
    savoir_faire: str = "SM54"  # oncologie médicale
    finess_site: str = "750000001"
    means: str = "e-CPS"  # or "CPS"

    @property
    def subject_name_id(self) -> str:
        return "8" + self.rpps  # IdNat PS

    def userinfo(self) -> dict[str, object]:
        return {
            "sub": f"f:{self.subject_name_id}",
            "preferred_username": self.subject_name_id,
            "SubjectNameID": self.subject_name_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "SubjectOrganization": "Centre hospitalier simulé",
            "SubjectOrganizationID": "1" + self.finess_site,
            "SubjectRole": [f"{self.profession}^1.2.250.1.213.1.1.5.5"],
            "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
            "SubjectRefPro": {
                "codeCivilite": "DR",
                "exercices": [
                    {
                        "codeProfession": self.profession,
                        "codeSavoirFaire": self.savoir_faire,
                        "activities": [
                            {
                                "numeroFinessSite": self.finess_site,
                                "raisonSocialeSite": "Centre hospitalier simulé",
                            }
                        ],
                    }
                ],
            },
            "otherIds": [{"identifiant": self.rpps, "origine": "RPPS"}],
        }


DEFAULT_PRACTITIONERS = (
    Practitioner("10001234567", "MEDECIN", "Alice"),
    Practitioner("10007654321", "ONCOLOGUE", "Bruno", means="CPS"),
)
