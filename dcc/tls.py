"""One TLS client context for the whole process.

Why: httpx builds a new SSL context (and reads the CA bundle) for every ``httpx.Client`` or top-level
``httpx.post``; the DCC opens a client per INSi call and per DMP transaction, so that setup was a visible share of
a transmission's CPU time. The context is immutable once made and safe to share between threads.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.lru_cache(maxsize=1)
def client_context() -> ssl.SSLContext:
    """httpx's own default (certifi's CA bundle, environment honoured), built once."""
    return httpx.create_ssl_context()
