"""Monthly receipts and verification reports: batches, progress, downloads."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from promkm_qr.auth.access import staff_roles
from promkm_qr.core.dates import now_wib
from promkm_qr.dinas import bp
from promkm_qr.dinas.scope import scoped_kelurahan_ids
from promkm_qr.documents import services
from promkm_qr.documents.kinds import KINDS, subject_names
from promkm_qr.documents.views import download
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.models import Document, Job

PAGE_SIZE = 50
DOCUMENT_STATES = {
    "pending": _l("menunggu"),
    "queued": _l("antre"),
    "done": _l("selesai"),
    "failed": _l("gagal"),
}
PERIOD_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


class BatchForm(Form):
    """Start the documents of a month."""

    period = StringField(
        _l("Bulan (TTTT-BB)"),
        validators=[DataRequired(), Regexp(PERIOD_RE, message=_l("Tulis bulan seperti 2026-10."))],
    )


class FilterForm(Form):
    """Which month and kind of documents to list."""

    class Meta:
        csrf = False

    # Optional: the first visit has no month and lists last month's documents, without an error.
    periode = StringField(
        _l("Bulan"),
        validators=[Optional(), Regexp(PERIOD_RE, message=_l("Tulis bulan seperti 2026-10."))],
    )
    jenis = SelectField(
        _l("Jenis"),
        choices=[SelectChoice("", _l("Semua jenis"))]
        + [SelectChoice(k, v.title) for k, v in KINDS.items()],
        default="",
    )


def _last_month() -> str:
    """The month before the current WIB month, as "YYYY-MM"."""
    today = now_wib()
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def _visible():
    """SQL condition for the documents this staff member may see (their scope's only)."""
    kelurahan = scoped_kelurahan_ids(current_user)
    if kelurahan is None:
        return True
    allowed = [
        and_(
            Document.kind == "verification_kelurahan",
            Document.subject.in_([str(k) for k in kelurahan]),
        )
    ]
    if current_user.scope_kecamatan_id:
        allowed.append(
            and_(
                Document.kind == "verification_kecamatan",
                Document.subject == str(current_user.scope_kecamatan_id),
            )
        )
    return or_(*allowed)


def _staff_document(doc_id: int) -> Document:
    """A document the staff member may see, else 404."""
    doc = db.session.scalar(select(Document).where(Document.id == doc_id, _visible()))
    if doc is None:
        abort(404)
    return doc


@bp.route("/dokumen")
def documents():
    """Documents of a month, filtered by kind, with the form that starts a batch."""
    filters = FilterForm(request.args)
    period = filters.periode.data if filters.validate() and filters.periode.data else _last_month()
    page = max(request.args.get("halaman", 1, type=int), 1)
    query = select(Document).where(Document.period == period, _visible())
    if filters.jenis.data in KINDS:
        query = query.where(Document.kind == filters.jenis.data)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    docs = db.session.scalars(
        query.order_by(Document.kind, Document.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    names = {}
    for kind in {d.kind for d in docs}:
        names[kind] = subject_names(kind, [d.subject for d in docs if d.kind == kind])
    jobs = db.session.scalars(
        select(Job).where(Job.kind == "documents").order_by(Job.created_at.desc()).limit(5)
    ).all()
    return render_template(
        "dinas/documents.html",
        docs=docs,
        names=names,
        kinds=KINDS,
        states=DOCUMENT_STATES,
        period=period,
        filters=filters,
        form=BatchForm(period=period),
        jobs=jobs,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
    )


@bp.route("/dokumen/buat", methods=["POST"])
@staff_roles("operator")
def documents_start():
    """Start the whole month's batch."""
    form = BatchForm()
    if not form.validate_on_submit() or scoped_kelurahan_ids(current_user) is not None:
        flash(_("Bulan tidak valid, atau akun Anda tidak berwenang membuat dokumen kota."), "error")
        return redirect(url_for("dinas.documents"))
    job = services.start_batch({"period": form.period.data}, current_user.id)
    return redirect(url_for("dinas.job", job_id=job.id))


@bp.route("/dokumen/<int:doc_id>/buat-ulang", methods=["POST"])
@staff_roles("operator")
def documents_regenerate(doc_id: int):
    """Generate one document again; it replaces the old file atomically."""
    if not Form().validate_on_submit():
        abort(400)
    doc = _staff_document(doc_id)
    params = {"period": doc.period, "kinds": [doc.kind], "subject": doc.subject}
    job = services.start_batch(params, current_user.id)
    return redirect(url_for("dinas.job", job_id=job.id))


@bp.route("/dokumen/proses/<job_id>/lanjutkan", methods=["POST"])
@staff_roles("operator")
def documents_resume(job_id: str):
    """Send an unfinished batch again (after a worker died): only missing documents are made."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "documents" or not Form().validate_on_submit():
        abort(404)
    if job.state in ("queued", "running"):
        services.resume_batch(job)
    return redirect(url_for("dinas.job", job_id=job.id))


@bp.route("/dokumen/<int:doc_id>/unduh")
def documents_download(doc_id: int):
    """Download a generated document."""
    doc = _staff_document(doc_id)
    if not doc.storage_key:
        abort(404)
    return download(doc)
