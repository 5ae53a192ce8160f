"""The words of each reminder, in the recipient's language, short enough for a phone.

Each text carries only what the reader may already see in the app (counts and sums of their
own reports), never another person's name or NIP.
"""

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from promkm_qr.core.dates import format_date, month_label
from promkm_qr.core.money import format_rupiah

MERCHANT_DIGEST = "merchant_digest"
ASN_SHORTFALL = "asn_shortfall"
STAFF_REVIEW_QUEUE = "staff_review_queue"
STAFF_JOBS_FAILED = "staff_jobs_failed"
ASN_REPORT_DECIDED = "asn_report_decided"
STAFF_REVIEW_GROWTH = "staff_review_growth"
KINDS = (
    MERCHANT_DIGEST,
    ASN_SHORTFALL,
    ASN_REPORT_DECIDED,
    STAFF_REVIEW_QUEUE,
    STAFF_REVIEW_GROWTH,
    STAFF_JOBS_FAILED,
)
# The kinds each role receives, and so may stop.
KINDS_BY_ROLE = {
    "merchant": (MERCHANT_DIGEST,),
    "asn": (ASN_SHORTFALL, ASN_REPORT_DECIDED),
    "dinas": (STAFF_REVIEW_QUEUE, STAFF_REVIEW_GROWTH, STAFF_JOBS_FAILED),
}


@dataclass(frozen=True)
class Text:
    """A reminder as every channel needs it: a subject, the body, the WhatsApp template
    (its name in the settings) with its parameters, and the link it opens."""

    subject: str
    body: str
    template: str
    params: list[str]
    link: str


def _text(subject: str, body: str, action: str, link: str, stop: str, template: str,
          params: list[str]) -> Text:  # fmt: skip
    """A reminder's Text: the body, then the line with the page's link (`action`, already
    worded) and the stop line; called within the recipient's locale."""
    body += "\n" + action + "\n" + _("Berhenti menerima pesan ini: %(link)s", link=stop)
    return Text(subject=subject, body=body, template=template, params=params, link=link)


def kind_label(kind: str) -> str:
    """A kind of reminder in words, for the preferences page and the delivery log."""
    return {
        MERCHANT_DIGEST: _("Laporan yang menunggu konfirmasi (pelaku UMKM)"),
        ASN_SHORTFALL: _("Kekurangan belanja menjelang akhir bulan (ASN)"),
        ASN_REPORT_DECIDED: _("Laporan yang dibantah atau ditolak (ASN)"),
        STAFF_REVIEW_QUEUE: _("Antrean tinjauan melewati batas (petugas)"),
        STAFF_REVIEW_GROWTH: _("Antrean tinjauan bertambah cepat (petugas)"),
        STAFF_JOBS_FAILED: _("Cetak dokumen atau impor yang gagal (petugas)"),
    }.get(kind, kind)


def merchant_digest(
    locale: str, waiting: int, total: int, oldest, last_call: int, link: str, stop: str
) -> Text:
    """The merchant's daily digest; a last call when reports go to review within a day."""
    with force_locale(locale):
        rp, since = format_rupiah(total), format_date(oldest, locale)
        body = _(
            "%(n)s laporan pembelian menunggu konfirmasi Anda, total %(rp)s, yang terlama "
            "sejak %(since)s.",
            n=waiting,
            rp=rp,
            since=since,
        )
        template = "merchant_digest"
        if last_call:
            body += " " + _(
                "Terakhir: %(n)s di antaranya diteruskan ke peninjauan dinas dalam 24 jam bila "
                "belum dijawab.",
                n=last_call,
            )
            template = "merchant_last_call"
        subject = _("Laporan menunggu konfirmasi")
        action = _("Konfirmasi: %(link)s", link=link)
        params = [str(waiting), rp, since, str(last_call), link]
        return _text(subject, body, action, link, stop, template, params)


def asn_shortfall(
    locale: str, year: int, month: int, total: int, quota: int, days: int, link: str, stop: str
) -> Text:
    """The ASN's month-end reminder: how much is still short of the quota."""
    with force_locale(locale):
        shortfall = format_rupiah(quota - total)
        body = _(
            "Belanja UMKM Anda bulan %(month)s baru %(total)s dari kuota %(quota)s: kurang "
            "%(short)s. Bulan ditutup %(days)s hari lagi.",
            month=month_label(year, month, locale),
            total=format_rupiah(total),
            quota=format_rupiah(quota),
            short=shortfall,
            days=days,
        )
        subject = _("Belanja UMKM bulan ini kurang %(short)s", short=shortfall)
        action = _("Riwayat: %(link)s", link=link)
        params = [shortfall, format_rupiah(total), format_rupiah(quota), str(days), link]
        return _text(subject, body, action, link, stop, "asn_shortfall", params)


def staff_review(locale: str, kind: str, n: int, limit: int, link: str, stop: str) -> Text:
    """Staff: the review queue of their area holds more than the threshold
    (STAFF_REVIEW_QUEUE), or grew by more than the setting since yesterday
    (STAFF_REVIEW_GROWTH). The kind is also the WhatsApp template's key."""
    with force_locale(locale):
        if kind == STAFF_REVIEW_GROWTH:
            body = _(
                "Antrean tinjauan di wilayah Anda bertambah %(n)s laporan sejak kemarin, "
                "melewati batas %(max)s per hari.",
                n=n,
                max=limit,
            )
            subject = _("Antrean tinjauan bertambah %(n)s laporan", n=n)
        else:
            body = _(
                "Antrean tinjauan di wilayah Anda berisi %(n)s laporan, melewati batas %(max)s.",
                n=n,
                max=limit,
            )
            subject = _("Antrean tinjauan: %(n)s laporan", n=n)
        action = _("Tinjau: %(link)s", link=link)
        return _text(subject, body, action, link, stop, kind, [str(n), str(limit), link])


def staff_jobs_failed(locale: str, failed: int, link: str, stop: str) -> Text:
    """Staff: background jobs (document batches, imports) failed today."""
    with force_locale(locale):
        body = _("%(n)s pekerjaan (cetak dokumen atau impor) gagal hari ini.", n=failed)
        subject = _("%(n)s pekerjaan gagal", n=failed)
        action = _("Periksa: %(link)s", link=link)
        return _text(subject, body, action, link, stop, "staff_jobs_failed", [str(failed), link])


def asn_report_decided(
    locale: str, to_state: str, reference: str, amount: int, reason: str | None, link: str,
    stop: str,
) -> Text:  # fmt: skip
    """The ASN's report was disputed by the merchant or rejected by dinas, with the reason
    (the same words the ASN reads on the report's page)."""
    with force_locale(locale):
        rp = format_rupiah(amount)
        if to_state == "disputed":
            body = _("Laporan %(ref)s (%(rp)s) dibantah oleh pelaku UMKM.", ref=reference, rp=rp)
            subject = _("Laporan %(ref)s dibantah", ref=reference)
        else:
            body = _("Laporan %(ref)s (%(rp)s) ditolak oleh dinas.", ref=reference, rp=rp)
            subject = _("Laporan %(ref)s ditolak", ref=reference)
        if reason:
            body += " " + _("Alasan: %(reason)s", reason=reason)
        action = _("Lihat laporan: %(link)s", link=link)
        params = [reference, rp, reason or "-", link]
        return _text(subject, body, action, link, stop, f"asn_report_{to_state}", params)
