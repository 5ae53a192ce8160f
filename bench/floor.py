"""The floor of the monthly documents: what WeasyPrint alone costs for the same pages.

    .venv/bin/python bench/floor.py [--recaps 200] [--receipts 50] [--rounds 3]
                                    [--contexts /tmp/floor-contexts.json]

Builds a tenth of the month as bench/documents.py does (or reads the contexts saved by an
earlier run with --contexts), takes merchant recaps and ASN receipts spread over their
subjects, and measures in this process, CPU time (process time), the minimum of --rounds:

- ``app``: the app's own path, ``render_pdf_pages(..., archival=True)`` per document;
- ``each``: ``template.html`` alone through ``HTML(string=...).write_pdf()`` per document,
  with one font configuration and the stylesheets parsed once (no letterhead, no signature
  form, no QR, no footer, plain PDF): the least a document laid out on its own can cost;
- ``one``: the same pages laid out as ONE document (each document's body from a new page,
  its first page starting as low as under the letterhead) and written once.

Per kind, each figure is milliseconds per document, split into layout and PDF writing. The
last line is one JSON object.
"""

import argparse
import gc
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("merchant_recap", "asn_receipt")
_BODY = re.compile(r"<body>(.*)</body>", re.S)
# The first page of each document starts under the letterhead (document.css: 46 mm top
# margin on the first page, 12 mm on the others): a spacer of the difference does it here.
_ONE_CSS = ".doc { break-before: page; } .doc > .top { height: 34mm; }"


def load_contexts(args) -> list[tuple[str, dict]]:
    """(kind, context) pairs, from the saved file or from a freshly built month."""
    saved = Path(args.contexts) if args.contexts else None
    if saved and saved.is_file():
        return [tuple(pair) for pair in json.loads(saved.read_text())]
    from bench.documents import month_contexts

    wanted = {"merchant_recap": args.recaps, "asn_receipt": args.receipts}
    found = [(kind, c) for kind, _, c in month_contexts(args, wanted, "bench-floor-")]
    if saved:
        saved.write_text(json.dumps(found, default=str))
    return found


def timed(work) -> tuple[float, object]:
    """CPU seconds of a call and its result, the cyclic collector paused as the app does."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        result = work()
        return time.process_time() - started, result
    finally:
        gc.enable()


def measure(renderer, kind: str, contexts: list[dict], rounds: int) -> dict:
    """Milliseconds per document of one kind: the app's path, each alone, all as one."""
    from weasyprint import CSS, HTML

    from promkm_qr.core.pdf import ARCHIVAL, PDF_OPTIONS

    folder = renderer.root / kind
    base_url = folder.as_uri() + "/"
    sheets = renderer._stylesheets(kind)
    one_sheets = [*sheets, CSS(string=_ONE_CSS, font_config=renderer.font_config)]
    template = renderer.env.get_template(f"{kind}/template.html")
    htmls = [template.render(c) for c in contexts]
    bodies = "".join(
        f'<div class="doc"><div class="top"></div>{_BODY.search(h).group(1)}</div>' for h in htmls
    )
    one_html = f'<!doctype html><html lang="id"><head><meta charset="utf-8"></head><body>{bodies}'
    options = {**PDF_OPTIONS, "font_config": renderer.font_config}

    def layout(html: str, stylesheets):
        source = HTML(string=html, base_url=base_url, url_fetcher=renderer.fetcher)
        return source.render(stylesheets=stylesheets, cache={}, **options)

    best = {key: float("inf") for key in ("app", "each_layout", "each_write", "one_layout")}
    best["one_write"] = float("inf")
    pages_one = 0
    for _ in range(rounds):
        cpu, _ = timed(
            lambda: [renderer.render_pdf_pages(kind, c, archival=True) for c in contexts]
        )
        best["app"] = min(best["app"], cpu)
        lay, write = 0.0, 0.0
        for html in htmls:
            cpu, document = timed(lambda html=html: layout(html, sheets))
            lay += cpu
            cpu, _ = timed(lambda document=document: document.write_pdf(**PDF_OPTIONS))
            write += cpu
        best["each_layout"] = min(best["each_layout"], lay)
        best["each_write"] = min(best["each_write"], write)
        cpu, document = timed(lambda: layout(one_html, one_sheets))
        best["one_layout"] = min(best["one_layout"], cpu)
        pages_one = len(document.pages)
        cpu, _ = timed(lambda document=document: document.write_pdf(**ARCHIVAL))
        best["one_write"] = min(best["one_write"], cpu)
    n = len(contexts)
    ms = {key: round(value * 1000 / n, 2) for key, value in best.items()}
    ms["each"] = round(ms["each_layout"] + ms["each_write"], 2)
    ms["one"] = round(ms["one_layout"] + ms["one_write"], 2)
    ms["documents"], ms["pages_one"] = n, pages_one
    return ms


def main() -> None:
    """Load the contexts, measure, print the figures."""
    from bench.documents import add_month_args

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_month_args(parser)
    parser.add_argument("--recaps", type=int, default=200)
    parser.add_argument("--receipts", type=int, default=50)
    parser.add_argument("--contexts", help="JSON file to save the contexts to or read them from")
    args = parser.parse_args()

    found = load_contexts(args)
    from promkm_qr.core.pdf import Renderer

    renderer = Renderer()
    figures = {"rounds": args.rounds}
    for kind in KINDS:
        contexts = [c for k, c in found if k == kind]
        measure(renderer, kind, contexts[:3], 1)  # warm: fonts, stylesheets, letterheads
        for key, value in measure(renderer, kind, contexts, args.rounds).items():
            figures[f"{kind}_{key}"] = value
    figures["load_avg_1m"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
