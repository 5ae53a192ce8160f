"""In-process cost of the monthly documents: CPU per document by kind and list length.

    .venv/bin/python bench/documents.py [--stalls 2360] [--asn 600] [--reports 6000]
                                        [--per-kind 120] [--rounds 3]

Builds a month on a fresh PostgreSQL database as bench/recaps.py does (a tenth of Madiun by
default), then renders --per-kind merchant recaps and ASN receipts spread over the subjects,
in this process, each document the minimum CPU time (process time) of --rounds rounds. It
prints the mean per kind, the median by number of list rows, and for the merchant recaps
with at most two sales the cost with the letterhead's forms replayed (as the app does) and
painted anew for every document. The last line is one JSON object.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.recaps import build  # noqa: E402
from tests.conftest import create_pg_database  # noqa: E402

KINDS = ("merchant_recap", "asn_receipt")
BUCKETS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 20), (21, 10**9))


def contexts(period: str, wanted: dict[str, int]) -> list[tuple[str, str, dict]]:
    """(kind, printable, context) of documents spread evenly over each wanted kind's subjects."""
    from promkm_qr.documents import kinds

    common, found = kinds.common_context(), []
    for kind, count in wanted.items():
        subjects = kinds.KINDS[kind].subjects(period)
        picked = subjects[:: max(1, len(subjects) // count)][:count]
        data = kinds.KINDS[kind].build(period, picked)
        for subject in picked:
            context = kinds.document_context(
                common, kind, period, "Xy3kP9qLm2Rt7vWz", data[subject]
            )
            found.append((kind, kinds.KINDS[kind].printable, context))
    return found


def add_month_args(parser: argparse.ArgumentParser) -> None:
    """The size of the month to build (a tenth of Madiun by default), rounds and period."""
    parser.add_argument("--stalls", type=int, default=2_360)
    parser.add_argument("--asn", type=int, default=600)
    parser.add_argument("--reports", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--period", default="2026-10")


def month_contexts(args, wanted: dict[str, int], prefix: str) -> list[tuple[str, str, dict]]:
    """Build the month on a fresh PostgreSQL database, return contexts(), drop the database."""
    database_url, drop = create_pg_database()
    instance = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        DATABASE_URL=database_url,
        PROMKM_INSTANCE=str(instance),
        PROMKM_STORAGE=str(instance / "storage"),
        SECRET_KEY="bench",
    )
    from promkm_qr import create_app

    app = create_app()
    try:
        with app.app_context():
            build(args, args.period)
            found = contexts(args.period, wanted)
            from promkm_qr.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
    return found


def _rows(context: dict) -> int:
    """Reports listed in a person's document."""
    return sum(len(group["rows"]) for group in context["groups"])


def min_cpu_ms(renderer, documents, rounds: int) -> list[float]:
    """Each document's minimum CPU milliseconds over the rounds."""
    best = [float("inf")] * len(documents)
    for _ in range(rounds):
        for i, (_kind, printable, context) in enumerate(documents):
            started = time.process_time()
            renderer.render_pdf(printable, context, archival=True)  # as the batch writes them
            best[i] = min(best[i], (time.process_time() - started) * 1000)
    return best


def main() -> None:
    """Build, render, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_month_args(parser)
    parser.add_argument("--per-kind", type=int, default=120)
    args = parser.parse_args()

    documents = month_contexts(args, dict.fromkeys(KINDS, args.per_kind), "bench-documents-")
    from promkm_qr.core.pdf import get_renderer

    renderer = get_renderer()
    min_cpu_ms(renderer, documents[:3], 1)  # warm: fonts, stylesheets, letterheads
    costs = min_cpu_ms(renderer, documents, args.rounds)
    figures = {"rounds": args.rounds}
    for kind in KINDS:
        mine = [
            (_rows(c), ms) for (k, _p, c), ms in zip(documents, costs, strict=True) if k == kind
        ]
        figures[f"{kind}_mean_ms"] = round(statistics.mean(ms for _, ms in mine), 1)
        for low, high in BUCKETS:
            bucket = [ms for rows, ms in mine if low <= rows <= high]
            if bucket:
                label = f"{low}" if low == high else f"{low}_{high}" if high < 10**9 else f"{low}+"
                figures[f"{kind}_rows_{label}_median_ms"] = round(statistics.median(bucket), 1)
                print(f"{kind}, {label} rows: {len(bucket)} documents", file=sys.stderr)

    # The same short recaps with the letterhead's forms painted for every document.
    short = [d for d in documents if d[0] == "merchant_recap" and _rows(d[2]) <= 2]
    replayed = min_cpu_ms(renderer, short, args.rounds)
    for key, pages in renderer._letterheads.items():
        renderer._letterheads[key] = [page._page for page in pages]
    painted = min_cpu_ms(renderer, short, args.rounds)
    figures["short_recap_forms_replayed_ms"] = round(statistics.mean(replayed), 1)
    figures["short_recap_forms_painted_ms"] = round(statistics.mean(painted), 1)
    figures["load_avg_1m"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
