"""Every error the API answers is `{"error": "one line naming what is wrong"}` with a 4xx
(or a 5xx for what the caller cannot fix); the request changed nothing."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from common.errors import describe, is_user_error, one_line

log = logging.getLogger("api")


class ApiError(Exception):
    """A bad request: its HTTP status and the one-line message the client gets as `{"error": ...}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = one_line(message)
        self.headers = headers


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status_code=status, headers=headers)


def _where(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body",)] if loc else []
    return ".".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if not errors:
        return 422, "invalid request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return 400, f"malformed JSON: {first.get('ctx', {}).get('error', first.get('msg'))}"
    where = first.get("loc") or ()
    kind = where[0] if where else "body"
    name = _where(where[1:]) if len(where) > 1 else kind
    label = {"path": "in the path", "query": "query parameter", "body": "body field"}.get(str(kind), str(kind))
    msg = first.get("msg", "invalid")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return 422, f"{label} {name!r}: {msg}{more}"


def install(app: FastAPI) -> None:
    """Every error becomes one JSON line with its status: validation, too large, user errors."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = validation_message(exc)
        return error(status, message)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        text = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and text == "Not Found":
            text = "no such endpoint (see /docs)"
        elif exc.status_code == 405:
            text = "method not allowed on this endpoint (see /docs)"
        return error(exc.status_code, text, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_user_error(exc):  # a store that cannot be used (disk full, server gone)
            return error(503, describe(exc))
        log.exception("%s %s failed", request.method, request.url.path)
        return error(500, "internal error (see logs/api.log)")
