"""Reports and PDF helpers for the documents tests."""

import io
import itertools
import secrets
import subprocess
from datetime import datetime

import pypdf
import zxingcpp
from PIL import Image

from promkm_qr.extensions import db
from promkm_qr.models import PurchaseReport, ReportFlag, ReportTransition

_seq = itertools.count(1)


def make_report(asn, stall, amount: int, at: datetime, state: str = "verified", **fields):
    """A purchase report in a given state at a given UTC time, with its dispute reason."""
    report = PurchaseReport(
        reference=f"PRT{next(_seq):07d}",
        idempotency_key=secrets.token_hex(16),
        asn_id=asn.id,
        opd_id=asn.asn.opd_id,
        stall_id=stall.id,
        amount=amount,
        goods_category="makanan",
        description=fields.pop("description", "Nasi pecel"),
        purchased_at=at,
        state=state,
        **fields,
    )
    db.session.add(report)
    db.session.flush()
    if state == "disputed":
        db.session.add(
            ReportTransition(
                report_id=report.id,
                from_state="submitted",
                to_state="disputed",
                reason="Pembeli tidak dikenal",
            )
        )
    if report.flagged:
        db.session.add(
            ReportFlag(report_id=report.id, rule="photo_reused", detail="Foto sama dengan PRX")
        )
    db.session.commit()
    return report


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, whitespace collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def decode_qr(pdf_path, page: int) -> list[str]:
    """Rasterise a page with pdftoppm at 150 dpi and decode its QR codes with zxing-cpp."""
    png = subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), str(pdf_path)],
        check=True,
        capture_output=True,
    ).stdout
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
