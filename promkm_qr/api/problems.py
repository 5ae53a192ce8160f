"""RFC 9457 problem documents: every error under /api answers application/problem+json."""

import math
import time
from http import HTTPStatus

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from promkm_qr.extensions import limiter

PROBLEM = "application/problem+json"


def is_api_request() -> bool:
    """Whether the request addresses the API (its errors are documents, not pages)."""
    return request.path == "/api" or request.path.startswith("/api/")


def problem(
    status: int, detail: str | None = None, *, errors: dict | None = None, headers=None
) -> Response:
    """A problem document; `errors` carries the per-field messages of a refused input."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _retry_after() -> str:
    """Seconds until the client's window lets it call again (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, math.ceil(current.reset_at - time.time())))


def from_exception(error: HTTPException) -> Response:
    """The problem document for an HTTP error a view or the framework raised."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 429:
        headers["Retry-After"] = _retry_after()
    if getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    errors = data.get("messages")
    if status >= 500:
        detail = None  # nothing of the server's inside goes out
    else:
        detail = getattr(error, "api_detail", None) or (
            "The input is not valid." if errors else None
        )
    return problem(status, detail, errors=errors, headers=headers)
