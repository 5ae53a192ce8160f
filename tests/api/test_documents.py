"""read:documents: issued documents' metadata and PDFs, limited to a client's OPD."""

import hashlib

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import AuditEntry, Document
from promkm_qr.models.base import utcnow
from promkm_qr.storage import get_storage
from tests.api.conftest import bearer


def _document(public_id: str, kind: str, subject: str, state: str = "done") -> Document:
    pdf = b"%PDF-1.7 " + public_id.encode()
    key = f"api/{public_id}.pdf"
    checksum = get_storage().put(key, pdf)
    document = Document(public_id=public_id, kind=kind, subject=subject, period="2026-03",
                        state=state, storage_key=key, checksum=checksum, pages=1, size=len(pdf),
                        generated_at=utcnow())  # fmt: skip
    db.session.add(document)
    db.session.commit()
    return document


def test_documents_list_and_download_within_the_clients_opd(client, city):
    own, other = city["opds"]
    asn = city["people"][0]  # in the first OPD
    _document("APIRCPT", "asn_receipt", str(asn.id))
    _document("APIOPD2", "verification_opd", str(other.id))
    _document("APIWAIT", "asn_receipt", str(city["people"][2].id), state="pending")
    everyone = bearer("read:documents")
    listed = client.get("/api/v1/documents", headers=everyone).get_json()["items"]
    assert sorted(d["id"] for d in listed) == ["APIOPD2", "APIRCPT"]
    pdf = client.get("/api/v1/documents/APIRCPT/file", headers=everyone)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    receipt = next(d for d in listed if d["id"] == "APIRCPT")
    assert hashlib.sha256(pdf.get_data()).hexdigest() == receipt["checksum"]
    scoped = bearer("read:documents", opd_id=own.id)
    mine = client.get("/api/v1/documents", headers=scoped).get_json()["items"]
    assert [d["id"] for d in mine] == ["APIRCPT"]
    hidden = client.get("/api/v1/documents/APIOPD2/file", headers=scoped)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    assert client.get("/api/v1/documents/APIWAIT/file", headers=everyone).status_code == 404
    reads = db.session.scalars(
        select(AuditEntry.data).where(AuditEntry.action == "api.personal_data_read")
    ).all()
    assert {"route": "documents.file", "user_ids": [asn.id]} in reads
