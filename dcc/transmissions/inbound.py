"""This DCC's inbound SMTP: what the MSSanté operator delivers to its BAL applicative — acknowledgements of the
mails it sent (DSN, MDN: ``acks.py``) and documents from other systems (an FRCP sent or returned by another DCC:
``exchange.py``). Each mail is handled in its own transaction, committed before the SMTP answer, so a 250 means
it is recorded. Run ``python -m dcc.transmissions.inbound --port 2526`` (the simulators' ``return_smtp``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from sqlalchemy.orm import Session, sessionmaker

from dcc.transmissions import acks

log = logging.getLogger("dcc.transmissions.inbound")
MAX_MESSAGE_BYTES = 30 * 1024 * 1024

DocumentHandler = Callable[[Session, bytes, str], Any]


def handle_mail(
    session_factory: sessionmaker[Session], raw: bytes, sender: str, documents: DocumentHandler | None
) -> str:
    """Records an acknowledgement, or hands a document mail to ``documents``; returns the SMTP reply."""
    with session_factory() as session:
        try:
            recorded = acks.record(session, raw)
        except acks.AckError as error:
            return f"554 5.6.0 acknowledgement refused: {error}"
        if not recorded and documents is not None:
            documents(session, raw, sender)
        session.commit()
    return "250 2.0.0 OK"


class _Handler:
    def __init__(self, session_factory: sessionmaker[Session], documents: DocumentHandler | None) -> None:
        self.session_factory, self.documents = session_factory, documents

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        raw = raw if isinstance(raw, bytes) else str(raw).encode()
        sender = str(envelope.mail_from or "").strip("<>")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                None, handle_mail, self.session_factory, raw, sender, self.documents
            )
        except Exception:
            log.exception("inbound mail from %r", sender)
            return "451 4.3.0 temporary failure, try again"


class _Controller(Controller):
    """With port 0 aiosmtpd must learn the chosen port before it wakes the server up."""

    def _trigger_server(self) -> None:
        if self.server is not None and self.server.sockets:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class InboundServer:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        host: str = "127.0.0.1",
        port: int = 0,
        documents: DocumentHandler | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._controller = _Controller(
            _Handler(session_factory, documents),
            hostname=host,
            port=port,
            data_size_limit=MAX_MESSAGE_BYTES,
            decode_data=False,
            ready_timeout=10.0,
            server_hostname="dcc-inbound",
        )

    def start(self) -> InboundServer:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> InboundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    from dcc.db import make_engine, make_session_factory
    from dcc.transmissions.exchange import receive_document

    parser = argparse.ArgumentParser(
        description="The DCC's inbound SMTP (acknowledgements, FRCP from other DCC)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2526)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = InboundServer(
        make_session_factory(make_engine(args.database_url)), args.host, args.port, documents=receive_document
    ).start()
    log.info("inbound SMTP on %s", server.address)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
