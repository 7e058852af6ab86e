"""The Annuaire Santé simulator (FHIR API v2 subset and extraction files, NATIONAL-SERVICES §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.simulators.annuaire.app import build_app
from harness.simulators.annuaire.data import Directory, from_mapping, load
from harness.simulators.base import HttpSimulator


class AnnuaireSimulator(HttpSimulator):
    """Options: ``annuaire_data`` (YAML/JSON file, or a mapping), ``api_key`` (the ESANTE-API-KEY value it
    accepts; empty: any non-empty key), ``extraction_time`` (a datetime, for reproducible file names)."""

    name = "annuaire"

    def __init__(
        self, evidence: Any = None, faults: Any = None, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        data = options.pop("annuaire_data", None)
        self.directory: Directory = from_mapping(data, "<options>") if isinstance(data, dict) else load(data)
        self.api_key: str = str(options.pop("api_key", "") or "")
        self.extraction_time: datetime | None = options.pop("extraction_time", None)
        if options:
            raise ValueError(f"annuaire: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(evidence=evidence, faults=faults, host=host, port=port)

    def build_app(self) -> Any:
        return build_app(self)
