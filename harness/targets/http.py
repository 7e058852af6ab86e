"""Any DCC that serves the test-driver API (docs/test-driver.md). Every request carries ``X-Recette-Scope`` so the
DCC can tag what it records on behalf of each scenario; ``events`` reads back only that scenario's events. Every
request also carries ``X-Recette-Run``, one id per target (run), so a DCC that keeps each scenario's data apart (the
reference does) starts every run afresh."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx

from harness.targets.base import NotFound, Refused, Target, TargetError, TargetSession

# The operations every DCC must serve for the recette to start (the others are looked up per scenario).
CORE = (
    "create_patient",
    "get_patient",
    "change_identity_status",
    "create_frcp",
    "create_pps",
    "get_document",
    "enter",
    "set_status",
    "new_version",
    "list_events",
)


def routes_from_openapi(document: dict[str, Any]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """operationId → (HTTP method, path template, names of its path parameters), from the DCC's OpenAPI document:
    the test-driver operations are found by their ``operationId`` (docs/test-driver.md)."""
    routes = {}
    for path, methods in (document.get("paths") or {}).items():
        if not path.startswith("/driver/"):
            continue
        for method, spec in methods.items():
            name = spec.get("operationId") if isinstance(spec, dict) else None
            if name:
                params = tuple(p.strip("{}") for p in path.split("/") if p.startswith("{"))
                routes[name] = (method.upper(), path, params)
    return routes


PAGE = 1000


class HttpSession(TargetSession):
    def __init__(
        self,
        scope: str,
        client: httpx.Client,
        routes: dict[str, tuple[str, str, tuple[str, ...]]],
        run: str = "",
    ) -> None:
        self.scope = scope
        self._headers = {"X-Recette-Scope": scope, "X-Recette-Run": run}
        self._client = client
        self._routes = routes

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, headers=self._headers, **kwargs)
        except httpx.HTTPError as error:
            raise TargetError(f"{method} {self._client.base_url}{path}: {error}") from error

    def call(self, operation: str, /, **arguments: Any) -> dict[str, Any]:
        if operation not in self._routes:
            raise TargetError(f"the DCC's test-driver API does not serve the operation {operation!r}")
        method, template, in_path = self._routes[operation]
        path = template.format(**{name: quote(str(arguments.pop(name)), safe="") for name in in_path})
        response = self._request(method, path, json=arguments if method in ("POST", "PUT", "PATCH") else None)
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
        self.run_id = uuid.uuid4().hex
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
        self.routes = routes_from_openapi(self._openapi)
        missing = [name for name in CORE if name not in self.routes]
        if missing:
            raise TargetError(
                f"{self.driver_url} does not serve the test-driver API: missing operation(s) {', '.join(missing)}"
            )

    def describe(self) -> dict[str, Any]:
        info = self._openapi.get("info", {})
        return {
            "kind": "http",
            "driver_url": self.driver_url,
            "title": info.get("title"),
            "version": info.get("version"),
        }

    def configure(self, environment: dict[str, str]) -> None:
        """Tells a DCC that serves the optional ``driver_configure`` operation where the run's simulators are; a
        DCC that does not must have been configured beforehand (``dcc-recette simulators up`` prints the lines)."""
        if "driver_configure" not in self.routes:
            return
        method, path, _params = self.routes["driver_configure"]
        try:
            response = self._client.request(method, path, json={"environment": environment})
        except httpx.HTTPError as error:
            raise TargetError(f"{method} {self.driver_url}{path}: {error}") from error
        if response.status_code >= 400:
            raise TargetError(f"{method} {path}: HTTP {response.status_code}: {response.text[:300]}")

    def session(self, scope: str) -> HttpSession:
        return HttpSession(scope, self._client, self.routes, self.run_id)

    def close(self) -> None:
        self._client.close()
