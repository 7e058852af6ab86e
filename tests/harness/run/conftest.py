"""A reference DCC served over HTTP on 127.0.0.1 (uvicorn in a thread), for the http target's tests."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from dcc.api.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_reference(tmp_path_factory):
    app = create_app(f"sqlite:///{tmp_path_factory.mktemp('served') / 'dcc.sqlite3'}", test_driver=True)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for the socket (at most ~10 s)
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the reference DCC did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
