"""The registered test-driver operations (``dcc.driver.OPERATIONS``) as HTTP routes, one per operation, with its
``operationId`` set to the operation's name so that a harness finds it in ``/openapi.json``."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Body, Request

from dcc.api.routes.driver import _call, _driver
from dcc.driver import Operation, load_operations

router = APIRouter(tags=["test-driver"])


def _endpoint(op: Operation):
    path_params = [p.strip("{}") for p in op.path.split("/") if p.startswith("{")]

    def endpoint(request: Request, **parameters: Any) -> dict[str, Any]:
        body = parameters.get("body")  # path parameters come again as keywords: request.path_params has them
        arguments = dict(request.path_params)
        if body is not None:
            arguments.update(body.model_dump() if hasattr(body, "model_dump") else dict(body))
        return _call(_driver(request).call, op.name, **arguments)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str) for name in path_params
    ]
    if op.method != "GET":
        annotation = op.body if op.body is not None else dict[str, Any]
        parameters.append(
            inspect.Parameter(
                "body", inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=Body(...)
            )
        )
    endpoint.__signature__ = inspect.Signature(parameters)  # what FastAPI reads to build the route
    endpoint.__name__ = op.name.replace(".", "_")
    return endpoint


for _op in load_operations().values():
    router.add_api_route(
        _op.path,
        _endpoint(_op),
        methods=[_op.method],
        operation_id=_op.name,
        summary=_op.summary,
        status_code=201 if _op.method == "POST" else 200,
    )
