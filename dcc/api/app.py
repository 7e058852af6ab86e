"""The application factory. Routers are found in ``dcc.api.routes`` (any module with a ``router``), so an area adds
its endpoints without editing this file."""

from __future__ import annotations

import importlib
import os
import pkgutil
import weakref

from fastapi import FastAPI
from sqlalchemy import Engine

import dcc
from dcc import events
from dcc.api import scopes
from dcc.db import make_engine, make_session_factory, migrate
from dcc.settings import database_url


class RecetteScope:
    """Pure ASGI middleware: the ``X-Recette-Scope`` header names the scenario a request acts for, and every event
    the DCC records while serving it carries that scope (``dcc.events.scope``). A plain ASGI wrapper, not
    BaseHTTPMiddleware, so the context variable reaches the endpoint's worker thread."""

    HEADER = b"x-recette-scope"
    RUN = b"x-recette-run"

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        value = run_id = None
        if scope["type"] == "http":
            for name, raw in scope.get("headers", ()):
                if name == self.HEADER:
                    value = raw.decode("latin-1")[:80]
                elif name == self.RUN:
                    run_id = raw.decode("latin-1")[:80]
        token = events.scope.set(value)
        run_token = scopes.run.set(run_id)
        try:
            await self.app(scope, receive, send)
        finally:
            scopes.run.reset(run_token)
            events.scope.reset(token)


TEST_DRIVER_MODULES = {"driver", "driver_ops"}


def create_app(
    url: str | None = None,
    engine: Engine | None = None,
    run_migrations: bool = True,
    test_driver: bool | None = None,
) -> FastAPI:
    """``test_driver``: serve the test-driver API under ``/driver`` (a test instance only: it creates data and
    reconfigures the DCC without authentication). Default: ``DCC_TEST_DRIVER`` (``1`` to enable), off otherwise."""
    url = url or database_url()
    if test_driver is None:
        test_driver = os.environ.get("DCC_TEST_DRIVER", "").strip() in ("1", "true", "yes")
    if run_migrations and engine is None:
        migrate(url)
    engine = engine or make_engine(url)
    app = FastAPI(
        title="DCC de référence (dcc-recette)",
        version=getattr(dcc, "__version__", "0.1.0"),
        description="Reference implementation of the cahier des charges PDE-MES-PPS-CANCER, and its test-driver API.",
    )
    app.add_middleware(RecetteScope)
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.scopes = None
    if test_driver and url.startswith("sqlite"):
        # each recette scenario's data apart, as in-process (dcc.api.scopes); removed with the app
        app.state.scopes = scopes.ScopeDatabases()
        weakref.finalize(app, app.state.scopes.close)
    from dcc.api import routes

    for module in pkgutil.iter_modules(routes.__path__):
        if module.name in TEST_DRIVER_MODULES and not test_driver:
            continue
        router = getattr(importlib.import_module(f"{routes.__name__}.{module.name}"), "router", None)
        if router is not None:
            app.include_router(router)
    return app
