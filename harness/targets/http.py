"""Any DCC that serves the test-driver API (docs/test-driver.md). Every request carries ``X-Recette-Scope`` so the
DCC can tag what it records on behalf of each scenario; ``events`` reads back only that scenario's events."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from harness.targets.base import NotFound, Refused, Target, TargetError, TargetSession

# operation -> (HTTP method, path template, names of the arguments that go into the path)
ROUTES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "create_patient": ("POST", "/driver/patients", ()),
    "get_patient": ("GET", "/driver/patients/{patient_id}", ("patient_id",)),
    "change_identity_status": ("POST", "/driver/patients/{patient_id}/identity-status", ("patient_id",)),
    "accept_cgu": ("POST", "/driver/cgu/acceptances", ()),
    "create_frcp": ("POST", "/driver/frcp", ()),
    "create_pps": ("POST", "/driver/pps", ()),
    "get_document": ("GET", "/driver/documents/{document_id}", ("document_id",)),
    "enter": ("POST", "/driver/documents/{document_id}/entries", ("document_id",)),
    "set_status": ("POST", "/driver/documents/{document_id}/status", ("document_id",)),
    "new_version": ("POST", "/driver/documents/{document_id}/versions", ("document_id",)),
    "add_attachment": ("POST", "/driver/documents/{document_id}/attachments", ("document_id",)),
    "export_audit": ("GET", "/driver/audit", ()),
}
PAGE = 1000


class HttpSession(TargetSession):
    def __init__(self, scope: str, client: httpx.Client) -> None:
        self.scope = scope
        self._client = client

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, headers={"X-Recette-Scope": self.scope}, **kwargs)
        except httpx.HTTPError as error:
            raise TargetError(f"{method} {self._client.base_url}{path}: {error}") from error

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        if operation not in ROUTES:
            raise TargetError(f"the test-driver API has no operation {operation!r}")
        method, template, in_path = ROUTES[operation]
        path = template.format(**{name: quote(str(arguments.pop(name)), safe="") for name in in_path})
        response = self._request(method, path, json=arguments if method == "POST" else None)
        body = _json(response, method, path)
        if response.status_code == 409:
            detail = body.get("detail", {}) if isinstance(body, dict) else {}
            raise Refused(str(detail.get("reason", "refused")), str(detail.get("message", "")))
        if response.status_code == 404:
            raise NotFound(f"{method} {path}: {body}")
        if response.status_code >= 400:
            raise TargetError(f"{method} {path}: HTTP {response.status_code}: {body}")
        return body

    def events(self) -> list[dict[str, Any]]:
        collected: list[dict[str, Any]] = []
        after = 0
        while True:  # bounded by the DCC's journal: each page moves ``after`` forward or ends the loop
            response = self._request(
                "GET", "/driver/events", params={"after": after, "limit": PAGE, "scope": self.scope}
            )
            page = _json(response, "GET", "/driver/events")
            if response.status_code != 200 or not isinstance(page, list):
                raise TargetError(f"GET /driver/events: HTTP {response.status_code}: {page}")
            collected.extend(page)
            if len(page) < PAGE:
                return collected
            after = page[-1]["seq"]


def _json(response: httpx.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TargetError(
            f"{method} {path}: HTTP {response.status_code}, not JSON: {response.text[:200]!r}"
        ) from None


class HttpTarget(Target):
    name = "http"

    def __init__(self, driver_url: str, timeout: float = 30.0) -> None:
        self.driver_url = driver_url.rstrip("/")
        self._client = httpx.Client(base_url=self.driver_url, timeout=timeout)
        try:
            response = self._client.get("/openapi.json")
        except httpx.HTTPError as error:
            raise TargetError(
                f"the DCC's test-driver API at {self.driver_url} cannot be reached: {error}"
            ) from None
        if response.status_code != 200:
            raise TargetError(f"{self.driver_url}/openapi.json: HTTP {response.status_code}")
        self._openapi = response.json()
        missing = sorted({t for _m, t, _p in ROUTES.values()} - set(self._openapi.get("paths", {})))
        if missing:
            raise TargetError(
                f"{self.driver_url} does not serve the test-driver API: missing {', '.join(missing)}"
            )

    def describe(self) -> dict[str, Any]:
        info = self._openapi.get("info", {})
        return {
            "kind": "http",
            "driver_url": self.driver_url,
            "title": info.get("title"),
            "version": info.get("version"),
        }

    def session(self, scope: str) -> HttpSession:
        return HttpSession(scope, self._client)

    def close(self) -> None:
        self._client.close()
