"""In-process costs behind the poster job: the QR mask choice, the shared background, the collector.

    .venv/bin/python bench/printables.py [--stalls 120] [--rounds 8]

CPU milliseconds (process time), each the median of --rounds alternating runs:
- a stall URL's QR code with segno's own mask choice and with core/qr_mask.py's;
- a chunk of posters rendered as one document per stall (the old way) and as one document
  with the shared background (render_pdf), per poster;
- the same chunk with the cyclic collector running during layout and paused (render_pdf).
The last line is one JSON object.
"""

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import segno  # noqa: E402

from promkm_qr.core import pdf, qr_mask  # noqa: E402
from promkm_qr.core.qr import qr_data_uri  # noqa: E402

BRAND = {"pemerintah": "Pemerintah Kota Madiun", "dinas": "Dinas Koperasi dan UMKM", "logo": ""}


def _labels(count: int, offset: int = 0) -> list[dict]:
    labels = []
    for n in range(offset, offset + count):
        code = f"3577011001-{n:05d}"
        url = f"https://promkm.madiunkota.go.id/q/{code}.1.AbCdEfGhIjKl"
        labels.append(
            {"id": n, "code": code, "name": f"Warung Bu Sri {n}", "version": 1,
             "kelurahan": "Manguharjo", "kecamatan": "Manguharjo", "url": url,
             "qr": qr_data_uri(url, max_version=5)}
        )  # fmt: skip
    return labels


def _cpu_ms(work, per: int) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) * 1000 / per


def _one_document_per_stall(renderer: pdf.Renderer, labels: list[dict]) -> None:
    """Each stall its own document (background and stall parts), written together."""
    documents = []
    for label in labels:
        context = {"stalls": [label], "branding": BRAND}
        background = renderer._document("poster", "background.html", context, {})
        documents += [background, renderer._document("poster", "template.html", context, {})]
    pages = [page for document in documents for page in document.pages]
    documents[0].copy(pages).write_pdf(**pdf.PDF_OPTIONS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stalls", type=int, default=120, help="posters per chunk")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    urls = [label["url"] for label in _labels(args.stalls)]
    renderer = pdf.get_renderer()
    labels = _labels(args.stalls, 1000)
    context = {"stalls": labels, "branding": BRAND}
    renderer.render_pdf("poster", context)  # warm: fonts, stylesheets
    runs: dict[str, list[float]] = {}

    def measure(name: str, work, per: int) -> None:
        runs.setdefault(name, []).append(_cpu_ms(work, per))

    for _ in range(args.rounds):
        measure("qr_segno_ms", lambda: [segno.make_qr(u, error="m") for u in urls], len(urls))
        measure("qr_numpy_ms", lambda: [qr_mask.make_qr(u, "m") for u in urls], len(urls))
        measure("poster_separate_documents_ms", lambda: _one_document_per_stall(renderer, labels),
                len(labels))  # fmt: skip
        measure("poster_shared_background_ms", lambda: renderer.render_pdf("poster", context),
                len(labels))  # fmt: skip
        # The same render with the collector left running during layout.
        measure("poster_collector_running_ms", lambda: renderer._write("poster", context),
                len(labels))  # fmt: skip
        gc.collect()
    figures = {name: round(statistics.median(values), 2) for name, values in runs.items()}
    print(json.dumps({"stalls": args.stalls, "rounds": args.rounds, **figures}))


if __name__ == "__main__":
    main()
