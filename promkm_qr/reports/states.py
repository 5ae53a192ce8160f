"""Report states in words: one wording for every page and document."""

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "submitted": _l("Menunggu konfirmasi penjual"),
    "confirmed": _l("Dikonfirmasi penjual"),
    "disputed": _l("Disanggah penjual"),
    "verified": _l("Diverifikasi dinas"),
    "rejected": _l("Ditolak dinas"),
    "withdrawn": _l("Ditarik"),
}


def state_label(state: str) -> str:
    """A report state in words (the code itself when unknown)."""
    return str(STATE_LABELS.get(state, state))
