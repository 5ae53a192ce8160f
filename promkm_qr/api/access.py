"""Who calls the API: bearer-token authentication, scopes, per-client rate limits, audit."""

import hashlib
from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import Forbidden, Unauthorized, UnprocessableEntity

from promkm_qr import audit
from promkm_qr.api.clients import Caller, authenticate
from promkm_qr.extensions import csrf, db, limiter

_ERRORS = (
    (400, "BAD_REQUEST"),
    (401, "UNAUTHORIZED"),
    (403, "FORBIDDEN"),
    (429, "TOO_MANY_REQUESTS"),
)


def _bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_key() -> str:
    """Rate-limit key: the token's digest (one bucket per client), else the address."""
    token = _bearer_token()
    if token:
        return "api:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-anon:" + (request.remote_addr or "")


def _client_limit() -> str:
    """Calls a client may make (config API_RATE_LIMIT, e.g. "600/minute")."""
    return current_app.config.get("API_RATE_LIMIT", "600/minute")


def _authenticate() -> None:
    """Refuse a call without a valid token; remember the caller for the views."""
    token = _bearer_token()
    caller = authenticate(token) if token else None
    if caller is None:
        error = Unauthorized()
        error.api_detail = "A valid bearer token is required (missing, expired or revoked)."
        error.data = {"headers": {"WWW-Authenticate": "Bearer"}}
        raise error
    g.api_caller = caller


class ApiBlueprint(Blueprint):
    """Query arguments follow their schema's `unknown` (RAISE): webargs would drop them."""

    ARGUMENTS_PARSER = FlaskParser(unknown=None)


def resource(name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of API operations: token required, CSRF exempt, limited per client.

    CSRF protects cookie sessions; the API ignores cookies and needs a bearer token that a
    browser never sends by itself, so exempting it opens nothing.
    """
    bp = ApiBlueprint(name, __name__, url_prefix=url_prefix, description=description)
    csrf.exempt(bp)
    bp.before_request(_authenticate)
    limiter.limit(_client_limit, key_func=client_key)(bp)
    return bp


def caller() -> Caller:
    """The authenticated client of this request."""
    return g.api_caller


def requires(bp: Blueprint, scope: str):
    """Restrict an operation to clients holding `scope`, and document that and its errors."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if scope not in caller().scopes:
                error = Forbidden()
                error.api_detail = f"This token lacks the scope {scope}."
                raise error
            return view(*args, **kwargs)

        documented = bp.doc(security=[{"bearerAuth": []}], **{"x-scope": scope})(wrapped)
        for status, name in _ERRORS:
            documented = bp.alt_response(status, response=name)(documented)
        return documented

    return decorator


def record_personal_read(route: str, subject_ids: list[int]) -> None:
    """Audit a call that returned personal data: the client, the route and subject ids only."""
    if not subject_ids:
        return
    audit.record(
        "api.personal_data_read",
        "api_client",
        caller().id,
        data={"route": route, "user_ids": sorted(set(subject_ids))},
    )
    db.session.commit()


def city_wide_only() -> None:
    """Refuse a write by a client limited to one OPD: stalls and the roster are city-wide
    (a roster upsert takes everyone not listed off the roster)."""
    if caller().opd_id is not None:
        error = Forbidden()
        error.api_detail = "Writes need a client that is not limited to one OPD."
        raise error


def refuse_items(errors: dict, detail: str | None = None):
    """A 422 problem naming the refused items by index (0-based) and field."""
    error = UnprocessableEntity()
    error.data = {"messages": {"json": {"items": errors}}} if errors else {}
    error.api_detail = detail or "Some items are not valid; nothing was changed."
    return error
