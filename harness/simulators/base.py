"""The narrow interface every simulator has (start, stop, base URL, evidence, faults), and the HTTP flavour
served by uvicorn in a thread, with an in-process client on the very same app (STYLE §5: one implementation,
two ways to reach it)."""

from __future__ import annotations

import socket
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import httpx
import uvicorn

from harness.simulators.evidence import EvidenceStore
from harness.simulators.faults import FaultPlan

START_TIMEOUT_S = 10.0


class SimulatorError(RuntimeError):
    """A simulator that cannot start (port taken, server not ready in time); the message names it."""


class Simulator(ABC):
    name: ClassVar[str] = "simulator"

    def __init__(
        self,
        evidence: EvidenceStore | None = None,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.evidence = evidence if evidence is not None else EvidenceStore()
        self.faults = faults if faults is not None else FaultPlan()
        self.host = host
        self.port = port
        self.options = options

    @abstractmethod
    def start(self) -> Any: ...

    @abstractmethod
    def stop(self) -> None: ...

    @property
    @abstractmethod
    def base_url(self) -> str: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HttpSimulator(Simulator):
    """Subclasses give :meth:`build_app` (an ASGI app); it is built once and served as is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def build_app(self) -> Any: ...

    @property
    def app(self) -> Any:
        if self._app is None:
            self._app = self.build_app()
        return self._app

    def start(self) -> Self:
        if self._server is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as error:
            sock.close()
            raise SimulatorError(f"{self.name}: cannot listen on {self.host}:{self.port} ({error})") from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"{self.name}-http", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise SimulatorError(f"{self.name}: HTTP server not ready after {START_TIMEOUT_S} s")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """A client on the same app, in-process (no socket)."""
        from starlette.testclient import TestClient

        return TestClient(self.app, base_url="http://testserver", **kwargs)
