"""Lookups behind the document pages: who may download what, and does a file match."""

import hashlib
from typing import BinaryIO

from sqlalchemy import select

from promkm_qr import outbox
from promkm_qr.extensions import db
from promkm_qr.jobs import create_job
from promkm_qr.models import Document, Job, User

# The only kinds a person (not staff) may hold, and which role holds them.
OWN_KINDS = {"asn": "asn_receipt", "merchant": "merchant_recap"}


def sha256_of(stream: BinaryIO) -> str:
    """The sha256 of an uploaded file, read in blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 16), b""):
        digest.update(block)
    return digest.hexdigest()


def stored(public_id: str) -> Document | None:
    """A generated document by its public id, or None."""
    doc = db.session.scalar(select(Document).where(Document.public_id == public_id))
    return doc if doc is not None and doc.storage_key else None


def owned_by(user: User, doc: Document | None) -> bool:
    """Whether a person (ASN or merchant) may download the document: only their own."""
    return doc is not None and OWN_KINDS.get(user.role) == doc.kind and doc.subject == str(user.id)


def own_documents(user: User) -> list[Document]:
    """The person's generated documents, newest month first."""
    kind = OWN_KINDS.get(user.role)
    return db.session.scalars(
        select(Document)
        .where(
            Document.kind == kind,
            Document.subject == str(user.id),
            Document.storage_key.is_not(None),
        )
        .order_by(Document.period.desc())
    ).all()


def start_batch(params: dict, user_id: int | None) -> Job:
    """Record a documents job and its batch task in one commit, then try the broker."""
    job = create_job("documents", params, created_by_id=user_id)
    message = outbox.enqueue("promkm_qr.documents.batch", job.id)
    db.session.commit()
    # A broker that is down leaves the message for the periodic flush; the job is saved.
    outbox.send_pending([message])
    return job


def resume_batch(job: Job) -> None:
    """Send the batch task again: it fans out only the documents still missing."""
    message = outbox.enqueue("promkm_qr.documents.batch", job.id)
    db.session.commit()
    outbox.send_pending([message])
