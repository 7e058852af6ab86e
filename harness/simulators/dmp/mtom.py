"""MTOM/XOP (multipart/related) for XDS.b: read a request's SOAP root part and its attachments by Content-ID;
build a response the same way. Sizes are bounded; a body that is not what its Content-Type says is refused."""

from __future__ import annotations

import email
import email.policy
import secrets

MAX_BODY_BYTES = 32 * 1024 * 1024


class MtomError(ValueError):
    pass


def parse(content_type: str, body: bytes) -> tuple[bytes, dict[str, bytes]]:
    if len(body) > MAX_BODY_BYTES:
        raise MtomError(f"request larger than {MAX_BODY_BYTES} bytes")
    if not content_type.lower().startswith("multipart/related"):
        return body, {}
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body, policy=email.policy.default
    )
    if not message.is_multipart():
        raise MtomError("multipart/related body without parts")
    parts = list(message.iter_parts())
    start = (message.get_param("start") or "").strip("<>")
    root = next(
        (p for p in parts if (p.get("Content-ID") or "").strip("<>") == start), parts[0] if parts else None
    )
    if root is None:
        raise MtomError("multipart/related body without a root part")
    attachments = {
        (p.get("Content-ID") or "").strip("<>"): p.get_payload(decode=True) or b""
        for p in parts
        if p is not root
    }
    return root.get_payload(decode=True) or b"", attachments


def build(root_xml: bytes, attachments: dict[str, bytes]) -> tuple[str, bytes]:
    boundary = "MIMEBoundary_" + secrets.token_hex(12)
    root_id = "root.message@dmp-simule"  # the same builder serves requests (examples) and responses
    chunks = [
        f'--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode(),
        root_xml,
        b"\r\n",
    ]
    for cid, content in attachments.items():
        chunks += [
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{cid}>\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"'
    )
    return content_type, b"".join(chunks)
