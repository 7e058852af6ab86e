"""The test instance's configuration by the harness: where the simulators of the run are (``DCC_INSI_URL``,
``DCC_PSC_URL``…, the names ``dcc-recette simulators up`` prints), so that a served reference DCC follows the run's
simulators as the in-process one does. Only ``DCC_*`` settings of the national services and of authentication are
accepted — never the database or the faults — and an empty mapping puts back what was there before."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from sqlalchemy.orm import Session

from dcc.driver import operation

NAME = re.compile(r"^DCC_[A-Z0-9_]{1,60}$")
NEVER = {"DCC_DATABASE_URL", "DCC_FAULTS"}
_saved: dict[str, str | None] = {}
_lock = threading.Lock()


class ConfigurationRefused(ValueError):
    reason = "invalid_configuration"


@operation("driver_configure", "POST", "/driver/configuration")
def driver_configure(session: Session, environment: dict[str, Any]) -> dict[str, Any]:
    """Points the test instance at the run's simulators (``DCC_*`` settings); ``{}`` restores the previous ones."""
    if not isinstance(environment, dict):
        raise ConfigurationRefused("environment: a JSON object of DCC_* settings is expected")
    bad = [k for k in environment if not NAME.match(str(k)) or k in NEVER]
    if bad:
        raise ConfigurationRefused(f"not settings the harness may change: {', '.join(map(str, bad))}")
    with _lock:
        for name, value in _saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _saved.clear()
        _saved.update({name: os.environ.get(name) for name in environment})
        os.environ.update({name: str(value) for name, value in environment.items()})
    return {"configured": sorted(environment)}
