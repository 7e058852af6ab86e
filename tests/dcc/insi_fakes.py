"""An in-memory INSi for the identity-flow tests: the same answers as the téléservice (00 one, 01 none, 02
several) for a small identity base, with a request id per call and an optional failure."""

from __future__ import annotations

import itertools

from dcc.identity.insi import BY_CARTE_VITALE, BY_TRAITS, InsiAnswer, InsiError, InsiIdentity, SearchTraits
from dcc.identity.traits import fold

OID = "1.2.250.1.213.1.4.10"
MARTIN = InsiIdentity("279035121518989", OID, "MARTIN", ("Jeanne", "Marie"), "F", "1979-03-12", "75056")
_ids = itertools.count(1)


class FakeInsi:
    def __init__(self, *identities: InsiIdentity, fail: str | None = None) -> None:
        self.identities = identities or (MARTIN,)
        self.fail = fail
        self.calls: list[tuple[str, object]] = []

    def _answer(self, operation: str, found: list[InsiIdentity]) -> InsiAnswer:
        request_id = f"urn:uuid:fake-{next(_ids)}"
        if self.fail:
            raise InsiError(self.fail, f"INSi {operation}: simulated {self.fail}", request_id)
        code = "00" if len(found) == 1 else ("01" if not found else "02")
        return InsiAnswer(operation, code, code, request_id, found[0] if code == "00" else None)

    def search_by_traits(self, traits: SearchTraits) -> InsiAnswer:
        self.calls.append((BY_TRAITS, traits))
        found = [
            i
            for i in self.identities
            if fold(i.nom_naissance) == fold(traits.nom_naissance)
            and fold(traits.prenom) in {fold(p) for p in i.prenoms}
            and (i.sexe, i.date_naissance) == (traits.sexe, traits.date_naissance)
        ]
        return self._answer(BY_TRAITS, found)

    def search_by_carte_vitale(self, numero: str, date_naissance: str | None = None) -> InsiAnswer:
        self.calls.append((BY_CARTE_VITALE, numero))
        return self._answer(BY_CARTE_VITALE, [i for i in self.identities if i.matricule[:13] == numero])
