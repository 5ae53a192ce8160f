"""The open JSON API under /api/v1 for the city's other systems (payroll, BKPSDM, data portal).

Documented by an OpenAPI 3.1 document generated from the code (flask-smorest + marshmallow)
at /api/v1/openapi.json, with a reference page at /api/v1/docs. Clients authenticate with a
bearer token (promkm_qr/api/clients.py); every error is an RFC 9457 problem document.
"""

from http import HTTPStatus

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from promkm_qr.api.problems import PROBLEM
from promkm_qr.api.schemas import ProblemSchema

DESCRIPTION = """Access for the city's systems to ASN quota compliance, purchase reports,
stalls and documents of promkm-qr, and the writes that feed it (stalls, the ASN roster).
Authenticate with `Authorization: Bearer <token>`; an admin creates tokens with the scopes
a system needs. Money is an integer number of rupiah; times are ISO 8601 in WIB (+07:00).
Errors are RFC 9457 problem documents (application/problem+json); a refused write names
its items in `errors.json.items` by index (0-based) and field, and changes nothing.
Lists are paged with an opaque `cursor`: pass the `next_cursor` of a page to get the next one
until it is null."""


class OpenApi(Api):
    """flask-smorest's Api, whose errors are problem documents (promkm_qr/errors.py answers)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # The app's own handlers answer problem documents under /api and pages elsewhere;
        # flask-smorest's would turn every HTML error of the site into JSON.
        return None

    def _register_responses(self):
        """Document every error status as a problem document."""
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def register(app: Flask) -> None:
    """Build the document and mount the resources (called by create_app)."""
    from promkm_qr.api import compliance, docs, documents, reports, roster, stalls

    app.config.setdefault("API_TITLE", "promkm-qr API")
    app.config.setdefault("API_VERSION", "1")
    app.config["OPENAPI_VERSION"] = "3.1.0"
    app.config["OPENAPI_URL_PREFIX"] = "/api/v1"
    app.config["OPENAPI_JSON_PATH"] = "openapi.json"
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/"}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    # One Api per app: it holds that app's document.
    api = OpenApi(app)
    for resource in (compliance.bp, reports.bp, stalls.bp, roster.bp, documents.bp):
        api.register_blueprint(resource)
    app.register_blueprint(docs.bp)
