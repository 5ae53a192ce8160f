"""The ASN is told the day a report is disputed or rejected, with the reason."""

from sqlalchemy import select

from promkm_qr.extensions import db
from promkm_qr.models import Notification, OutboxMessage
from promkm_qr.reports import review
from tests.factories import make_asn, make_merchant, make_report, make_staff, make_stall


def _told(kind: str = "asn_report_decided") -> list[Notification]:
    query = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    return list(db.session.scalars(query))


def test_a_disputed_report_tells_its_asn_with_the_reason(app, monkeypatch):
    monkeypatch.setitem(app.config, "WHATSAPP_TOKEN", "t")
    monkeypatch.setitem(app.config, "WHATSAPP_PHONE_NUMBER_ID", "1")
    asn, merchant = make_asn(), make_merchant()
    asn.phone = "081234567890"
    db.session.commit()
    report = make_report(asn, make_stall(owner=merchant), 45_000)
    review.dispute(report.id, merchant.id, "amount", "hanya 40 ribu")
    db.session.commit()
    inapp, whatsapp = _told()
    assert (inapp.user_id, inapp.channel, inapp.status) == (asn.id, "inapp", "sent")
    assert (whatsapp.channel, whatsapp.status) == ("whatsapp", "queued")
    assert inapp.subject == f"Laporan {report.reference} dibantah"
    assert inapp.body == (
        f"Laporan {report.reference} (Rp45.000) dibantah oleh pelaku UMKM. "
        "Alasan: Nominal salah: hanya 40 ribu\n"
        f"Lihat laporan: https://promkm.example.go.id/asn/laporan/{report.id}\n"
        "Berhenti menerima pesan ini: https://promkm.example.go.id/pemberitahuan/pengaturan"
    )
    assert whatsapp.params["template"] == "laporan_dibantah"
    # The WhatsApp row goes to Celery through the outbox, committed with the change.
    queued = db.session.scalars(select(OutboxMessage.args)).all()
    assert [[whatsapp.id]] in queued


def test_a_rejection_tells_the_asn_in_their_language(app):
    asn = make_asn()
    asn.locale = "en"
    db.session.commit()
    report = make_report(asn, make_stall(), 1_250_000, state="disputed")
    review.decide([report.id], make_staff("admin"), "rejected", "Foto nota tidak terbaca")
    db.session.commit()
    (inapp,) = _told()
    assert inapp.subject == f"Report {report.reference} rejected"
    assert inapp.body.startswith(
        f"Report {report.reference} (Rp1.250.000) was rejected by the dinas. "
        "Reason: Foto nota tidak terbaca\n"
    )


def test_other_state_changes_tell_nobody(app):
    asn, merchant = make_asn(), make_merchant()
    stall = make_stall(owner=merchant)
    staff = make_staff("admin")
    review.confirm([make_report(asn, stall).id], merchant.id)
    review.decide([make_report(asn, stall).id], staff, "verified", "Sesuai nota")
    db.session.commit()
    assert db.session.scalars(select(Notification)).all() == []
