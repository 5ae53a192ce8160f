"""`read:documents`: metadata of issued documents with their checksum, and their download."""

from flask import Response
from flask.views import MethodView
from sqlalchemy import String, cast, or_, select
from werkzeug.exceptions import NotFound

from promkm_qr.api.access import caller, record_personal_read, requires, resource
from promkm_qr.api.paging import decode_cursor, encode_cursor, iso_wib
from promkm_qr.api.schemas import DocumentArgs, DocumentPage
from promkm_qr.dashboard.queries import run
from promkm_qr.models import AsnProfile, Document
from promkm_qr.storage import get_storage

bp = resource("api_documents", "/api/v1/documents", "Issued documents (PDF) and their checksums.")
# Kinds whose subject is a person's user id: listing or downloading them reads personal data.
PERSONAL = ("asn_receipt", "merchant_recap")
PDF_ANSWER = {
    "200": {
        "description": "The PDF as issued; its SHA-256 equals the listed checksum.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _visible(query, opd_id: int | None):
    """Documents a client may see: all, or for one OPD its ASN's receipts and its report."""
    query = query.where(Document.state == "done")
    if opd_id is None:
        return query
    members = select(cast(AsnProfile.user_id, String)).where(AsnProfile.opd_id == opd_id)
    return query.where(
        or_(
            (Document.kind == "asn_receipt") & Document.subject.in_(members),
            (Document.kind == "verification_opd") & (Document.subject == str(opd_id)),
        )
    )


def _row(d) -> dict:
    """A document as the API lists it."""
    return {
        "id": d.public_id, "kind": d.kind, "subject": d.subject, "period": d.period,
        "checksum": d.checksum, "pages": d.pages, "size": d.size,
        "generated_at": iso_wib(d.generated_at),
    }  # fmt: skip


def _personal_ids(rows) -> list[int]:
    """The user ids among the subjects of personal documents."""
    return [int(d.subject) for d in rows if d.kind in PERSONAL and d.subject.isdigit()]


@bp.route("")
class Documents(MethodView):
    """Documents."""

    @requires(bp, "read:documents")
    @bp.arguments(DocumentArgs, location="query")
    @bp.response(200, DocumentPage)
    def get(self, args):
        """Issued documents by id, optionally of one period (YYYY-MM) or kind."""
        query = select(Document).order_by(Document.id).limit(args["limit"] + 1)
        query = _visible(query, caller().opd_id)
        if args.get("period"):
            query = query.where(Document.period == args["period"])
        if args.get("kind"):
            query = query.where(Document.kind == args["kind"])
        after = decode_cursor(args.get("cursor"), (int,))
        if after is not None:
            query = query.where(Document.id > after[0])
        rows = run(query).all()
        page = rows[: args["limit"]]
        record_personal_read("documents", _personal_ids(page))
        more = len(rows) > args["limit"]
        return {
            "items": [_row(d) for d in page],
            "next_cursor": encode_cursor(page[-1].id) if more else None,
        }


@bp.route("/<string:document_id>/file")
class DocumentFile(MethodView):
    """A document's PDF."""

    @requires(bp, "read:documents")
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.doc(responses=PDF_ANSWER)
    def get(self, document_id: str):
        """The PDF of an issued document (404 when unknown or outside the token's OPD)."""
        query = _visible(select(Document).where(Document.public_id == document_id), caller().opd_id)
        document = run(query).first()
        storage = get_storage()
        if document is None or not document.storage_key or not storage.exists(document.storage_key):
            raise NotFound()
        data = storage.get(document.storage_key)
        record_personal_read("documents.file", _personal_ids([document]))
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document.public_id}.pdf"'},
        )
