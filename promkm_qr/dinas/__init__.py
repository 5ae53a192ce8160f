"""Pages of dinas staff: stalls, posters, review queue, recaps, dashboard and settings."""

from flask import Blueprint

from promkm_qr.auth.access import require_role

bp = Blueprint("dinas", __name__)
require_role(bp, "dinas")

# One module per area of the workspace.
from promkm_qr.dinas import (  # noqa: E402, F401
    accounts,
    api_clients,
    bulk,
    dashboard,
    data_requests,
    documents,
    payroll,
    reminders,
    review,
    settings,
    stalls,
    views,
    webhooks,
)
