"""All tables, imported in one place so Alembic and the app see the whole schema.

Timestamps are stored as naive UTC everywhere (SQLite has no time zones); pages and
documents convert them to WIB. Money is an integer number of rupiah.
"""

from promkm_qr.models.account import AsnProfile, Opd, QuotaRule, User
from promkm_qr.models.api_client import ApiClient
from promkm_qr.models.audit import AuditEntry
from promkm_qr.models.job_chunk import JobChunk
from promkm_qr.models.jobs import Document, Job, OutboxMessage, Setting
from promkm_qr.models.notification import Notification
from promkm_qr.models.region import Kecamatan, Kelurahan
from promkm_qr.models.report import Evidence, PurchaseReport, ReportFlag, ReportTransition
from promkm_qr.models.rollup import ReviewDelta, RollupDelta
from promkm_qr.models.session import UserSession
from promkm_qr.models.stall import Category, PosterPrint, RefusedScan, Stall
from promkm_qr.models.upload import PhotoUpload
from promkm_qr.models.webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiClient",
    "AsnProfile",
    "AuditEntry",
    "Category",
    "Document",
    "Evidence",
    "Job",
    "JobChunk",
    "Kecamatan",
    "Kelurahan",
    "Notification",
    "Opd",
    "OutboxMessage",
    "PhotoUpload",
    "PosterPrint",
    "PurchaseReport",
    "QuotaRule",
    "RefusedScan",
    "ReportFlag",
    "ReportTransition",
    "ReviewDelta",
    "RollupDelta",
    "Setting",
    "Stall",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WebhookSubscription",
]
