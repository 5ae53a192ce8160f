"""Downloads of one's own receipt or recap, and the public verification page of a document."""

import sys

from flask import abort, render_template, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired, FileSize

from promkm_qr.documents import bp, services
from promkm_qr.documents.kinds import KINDS
from promkm_qr.forms import Form
from promkm_qr.storage import get_storage


class VerifyForm(Form):
    """A PDF someone holds, to compare with the stored document."""

    file = FileField(
        _l("Berkas PDF yang ingin diperiksa"),
        # A chosen file without bytes is told so, rather than "does not match".
        validators=[
            FileRequired(),
            FileSize(sys.maxsize, min_size=1, message=_l("Berkas kosong. Pilih berkas PDF-nya.")),
        ],
    )


def download(doc):
    """Stream a stored document as a PDF attachment."""
    name = f"{doc.kind}-{doc.period}-{doc.public_id}.pdf"
    return send_file(
        get_storage().path(doc.storage_key),
        mimetype="application/pdf",
        download_name=name,
        as_attachment=True,
    )


@bp.route("/dokumen/saya")
@login_required
def mine():
    """The signed-in ASN's receipts or merchant's recaps."""
    if current_user.role not in services.OWN_KINDS:
        abort(404)
    docs = services.own_documents(current_user)
    return render_template("documents/mine.html", docs=docs, kinds=KINDS)


@bp.route("/dokumen/<public_id>/unduh")
@login_required
def own_download(public_id: str):
    """Download one's own document; anyone else's answers 404."""
    doc = services.stored(public_id)
    if not services.owned_by(current_user, doc):
        abort(404)
    return download(doc)


@bp.route("/v/<public_id>", methods=["GET", "POST"])
def verify(public_id: str):
    """Show a document's id and checksum, and compare a presented file with it."""
    doc = services.stored(public_id)
    if doc is None:
        abort(404)
    form = VerifyForm()
    matches = None
    if form.validate_on_submit():
        matches = services.sha256_of(form.file.data.stream) == doc.checksum
    return render_template(
        "documents/verify.html",
        doc=doc,
        title=KINDS[doc.kind].title,
        form=form,
        matches=matches,
    )
