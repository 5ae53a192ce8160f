"""The report form's offline side: the form kept on the phone, and the JSON answers the
phone's queue (static/asn-outbox.js) gets when it sends a report that waited.

A queued report is posted to the same address as the form, with `Accept: application/json`;
it gets the same checks and the same one-time form key, so sending it twice records it once.
"""

from flask import jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from promkm_qr.asn import bp
from promkm_qr.asn.forms import ReportForm

# The words of templates/public/link_refused.html, for a queued report whose link is refused.
INACTIVE = _l("Lapak ini sedang tidak aktif sehingga belanja di sini belum dapat dilaporkan.")
LINK_REFUSED = {
    "revoked": _l(
        "Poster ini sudah diganti dengan poster baru. Pindai poster terbaru di lapak, atau "
        "ketik kode lapak yang tertulis di bawah QR."
    ),
    "suspended": INACTIVE,
    "pending": INACTIVE,
}
LINK_UNKNOWN = _l(
    "Kode QR ini tidak dikenali. Pastikan Anda memindai poster resmi, atau ketik kode lapak "
    "yang tertulis di bawah QR."
)


def wants_json() -> bool:
    """Whether the phone's queue sent this request (it asks for JSON; a browser for HTML)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def sent(report_id: int, created: bool):
    """A report recorded now or by an earlier send of the same form key."""
    receipt = url_for("asn.receipt", report_id=report_id)
    return jsonify(ok=True, receipt=receipt, created=created)


def refused(status: int, message: str = "", errors: dict | None = None, retry: bool = False):
    """A report the server did not record, with the reason the phone shows next to it."""
    words = {name: [str(text) for text in texts] for name, texts in (errors or {}).items()}
    return jsonify(ok=False, message=str(message), errors=words, retry=retry), status


def link_refused(reason: str, status: int):
    """A queued report for a poster link that no longer opens the form."""
    return refused(status, LINK_REFUSED.get(reason, LINK_UNKNOWN))


@bp.route("/lapor-luring")
def offline_form():
    """The report form the phone keeps: it fills in the stall from the poster link it opens
    offline, a fresh form key and the phone's time; the server checks all when it arrives."""
    form = ReportForm()
    action = url_for("asn.home")  # replaced on the phone by the poster link's form address
    return render_template("asn/report_form.html", form=form, stall=None, action=action)


@bp.route("/kirim-token")
def send_token():
    """Who is signed in and a CSRF token of this session, for sending the waiting reports
    (after signing in again the old page's token is stale)."""
    return jsonify(user=current_user.id, csrf_token=generate_csrf())
