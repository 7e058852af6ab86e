"""Where the transmissions go and how hard the outbox tries, from the environment (``docs/transmissions.md``).

Defaults are the simulators' conventions so that a local run works with ``dcc-recette simulators up`` output."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dcc.transmissions.routing import DEFAULT_PDC_ADDRESS


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r}: a number is expected") from None


def _hostport(url: str) -> tuple[str, int]:
    rest = url.strip().removeprefix("smtp://")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"DCC_MSS_SMTP={url!r}: smtp://host:port expected")
    return host, int(port)


@dataclass(frozen=True)
class TransmissionConfig:
    mss_smtp: tuple[str, int] | None = None  # the MSSanté operator's SMTP (host, port)
    sender: str = (
        "dcc@dcc-region.mssante.fr"  # this DCC's BAL applicative: From, and where acknowledgements go
    )
    pdc_address: str = DEFAULT_PDC_ADDRESS
    dmp_url: str | None = None  # XDS.b endpoint (through the Espace de confiance PSC proxy)
    dmp_token: str | None = None  # Bearer token for DMP calls when no token provider is given
    dpi_gateways: dict[str, str] = field(default_factory=dict)  # FINESS -> document gateway BAL applicative
    max_attempts: int = 8
    backoff_s: float = 2.0  # first retry after backoff_s, then doubling
    backoff_max_s: float = 3600.0
    lease_s: float = 60.0
    in_doubt_grace_s: float = 30.0  # how long an interrupted MSS delivery waits for its DSN before a resend
    smtp_timeout_s: float = 30.0
    http_timeout_s: float = 30.0

    @classmethod
    def from_environment(cls) -> TransmissionConfig:
        smtp = os.environ.get("DCC_MSS_SMTP", "").strip()
        gateways = {}
        for item in os.environ.get("DCC_DPI_GATEWAYS", "").split(","):
            if item.strip():
                finess, _, address = item.partition("=")
                if not address:
                    raise ValueError(f"DCC_DPI_GATEWAYS: {item!r} is not FINESS=address")
                gateways[finess.strip()] = address.strip()
        return cls(
            mss_smtp=_hostport(smtp) if smtp else None,
            sender=os.environ.get("DCC_MSS_SENDER", cls.sender).strip(),
            pdc_address=os.environ.get("DCC_PDC_ADDRESS", DEFAULT_PDC_ADDRESS).strip(),
            dmp_url=os.environ.get("DCC_DMP_URL", "").strip() or None,
            dmp_token=os.environ.get("DCC_DMP_TOKEN", "").strip() or None,
            dpi_gateways=gateways,
            max_attempts=int(_float("DCC_OUTBOX_MAX_ATTEMPTS", 8)),
            backoff_s=_float("DCC_OUTBOX_BACKOFF_S", 2.0),
            backoff_max_s=_float("DCC_OUTBOX_BACKOFF_MAX_S", 3600.0),
            lease_s=_float("DCC_OUTBOX_LEASE_S", 60.0),
            in_doubt_grace_s=_float("DCC_OUTBOX_IN_DOUBT_S", 30.0),
        )

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] or "dcc.invalid"
