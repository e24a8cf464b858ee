"""Every error of `meav serve` as an OpenAI error object, whatever raised it: a refused request (RequestError),
a body that fails its schema (400, not FastAPI's 422), an unknown route (404) or method (405), a missing or
wrong API key (401), a bug (500). Clients (the openai SDK, LangChain) read `error.message`; FastAPI's own
`{"detail": ...}` would reach users as an unreadable error. The server keeps serving after each.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from meav.serving.protocol import RequestError

log = logging.getLogger(__name__)


def _param(loc: tuple) -> str | None:
    """('body', 'messages', 0, 'role') → 'messages[0].role'; pydantic's union branch tags ('str',
    'list[dict[str,any]]', 'function-after[...]') end the path."""
    out = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (
            isinstance(part, str)
            and part.isidentifier()
            and part not in ("str", "int", "float", "list", "dict")
        ):
            out += f".{part}" if out else part
        else:
            break
    return out or None


def validation_error(e: RequestValidationError) -> RequestError:
    err = e.errors()[0]
    param = _param(tuple(err.get("loc", ())))
    if err["type"] == "json_invalid":
        return RequestError(
            400, f"the request body is not valid JSON ({err.get('msg')})", None, "invalid_json"
        )
    if param is None:
        return RequestError(
            400,
            "the request body must be a JSON object, sent with content-type: application/json",
            None,
            "invalid_json",
        )
    if err["type"] == "missing":
        return RequestError(400, f"'{param}' is required", param, "missing")
    return RequestError(400, f"'{param}': {err['msg']}", param, "invalid_value")


def install_error_handlers(app: FastAPI) -> None:
    def reply(e: RequestError) -> JSONResponse:
        headers = {"www-authenticate": "Bearer"} if e.status == 401 else None
        return JSONResponse(e.body(), status_code=e.status, headers=headers)

    @app.exception_handler(RequestError)
    async def refused(request: Request, e: RequestError) -> JSONResponse:
        return reply(e)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return reply(validation_error(e))

    @app.exception_handler(HTTPException)
    async def http(request: Request, e: HTTPException) -> JSONResponse:
        where = f"{request.method} {request.url.path}"
        if e.status_code == 404:
            return reply(RequestError(404, f"no such route: {where} (see /docs)", None, "not_found"))
        if e.status_code == 405:
            allowed = {k.lower(): v for k, v in (e.headers or {}).items()}.get("allow", "?")
            return reply(RequestError(405, f"method not allowed: {where} (allowed: {allowed})", None, "method_not_allowed"))  # fmt: skip
        return reply(RequestError(e.status_code, f"{where}: {e.detail}", None, None))

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return reply(RequestError(500, f"internal error: {type(e).__name__}: {e}", None, "internal_error"))


def bearer(api_key: str | None):
    """A dependency that requires `Authorization: Bearer API_KEY` when a key is set (compared in constant
    time); documented in /docs as the API's security scheme."""
    scheme = HTTPBearer(auto_error=False, description="--api-key (when the server was started with one)")

    async def check(credentials: HTTPAuthorizationCredentials | None = Depends(scheme)) -> None:
        if api_key is None:
            return
        if credentials is None:
            raise RequestError(
                401, "missing API key: send 'Authorization: Bearer KEY'", None, "invalid_api_key"
            )
        if not secrets.compare_digest(credentials.credentials.encode(), api_key.encode()):
            raise RequestError(401, "incorrect API key", None, "invalid_api_key")

    return check
