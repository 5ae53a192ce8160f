"""Where the web's CPU goes in a submission: the form and the POST, in process, by part.

    python bench/submit_web.py [--rounds 300]

One signed-in ASN opens the poster link (the form) and submits it with a ~300 KB photo,
through Flask's test client on a fresh PostgreSQL database (no gunicorn, no HTTP parsing),
round after round. The CPU time of each request is measured, and of the parts named in
PARTS, by wrapping them. The POST's body is encoded before its clock starts. Prints one JSON
line: median CPU per request and mean CPU per round of each part, in ms.
"""

import argparse
import functools
import io
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stack  # noqa: E402
from bench.submit import ACTION_RE, CSRF_RE, KEY_RE, phone_photos, prepare  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402

# (module, attribute, label): the parts timed; nested parts count in their callers too.
PARTS = (
    ("promkm_qr.asn.views", "_render_form", "render_form"),
    ("promkm_qr.stalls.links", "resolve", "resolve_link"),
    ("flask_wtf.csrf", "CSRFProtect.protect", "csrf_and_form_parsing"),
    ("promkm_qr.core.photos", "check_photo", "check_photo"),
    ("promkm_qr.storage", "DirectoryStorage.put", "store_upload"),
    ("promkm_qr.reports.submit", "_record", "record_transaction"),
    ("promkm_qr.audit", "record", "audit_entry"),
    ("sqlalchemy.orm", "Session.flush", "orm_flush"),
    # With no worker here, the first submission's message waits all run: this is the
    # request's side of a message already waiting (one Redis SET that finds the key).
    ("promkm_qr.reports.evidence_queue", "announce", "evidence_message"),
)


def _wrap(spent: Counter, module: str, attribute: str, label: str) -> None:
    """Replace module.attribute by a wrapper adding its CPU time to spent[label]."""
    owner = sys.modules.get(module) or __import__(module, fromlist=["_"])
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start

    setattr(owner, name, timed)


def signed_in_round(app, nip: str, token: str, photos: list[bytes]):
    """Sign an ASN in; returns round(n) -> (form CPU s, POST CPU s) for the n-th submission."""
    from werkzeug.test import EnvironBuilder

    from promkm_qr.core.dates import now_wib

    client = app.test_client()
    html = client.get("/auth/masuk").text
    fields = {"csrf_token": CSRF_RE.search(html)[1], "role": "asn", "identifier": nip}
    assert client.post("/auth/masuk", data={**fields, "password": PASSWORD}).status_code == 302

    def submission(n: int) -> tuple[float, float]:
        # Each round from its own address, as the many phones of a real day would be.
        headers = {"X-Forwarded-For": f"10.1.{n // 250 % 250}.{n % 250 + 1}"}
        start = time.process_time()
        html = client.get(f"/q/{token}", headers=headers).text
        form_cpu = time.process_time() - start
        data = {
            "csrf_token": CSRF_RE.search(html)[1],
            "form_key": KEY_RE.search(html)[1],
            "amount": "Rp25.000",
            "goods_category": "makanan",
            "description": "Pecel",
            "purchased_at": now_wib().strftime("%Y-%m-%dT%H:%M"),
            "payment_method": "tunai",
            "photo": (io.BytesIO(photos[n % len(photos)]), "foto.jpg", "image/jpeg"),
        }
        path = ACTION_RE.search(html)[1]
        environ = EnvironBuilder(path=path, method="POST", data=data, headers=headers)
        environ = environ.get_environ()
        start = time.process_time()
        response = client.open(environ)
        post_cpu = time.process_time() - start
        assert response.status_code == 302, response.status_code
        return form_cpu, post_cpu

    return submission


def main() -> None:
    """Run the rounds and print one JSON line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    stack.add_service_arguments(parser)
    args = parser.parse_args()

    env, _work, _url, drop = stack.environment("web", args.postgres, args.redis)
    try:
        app = stack.migrated_app(env)
        (nip,), token = prepare(app, 1)
        spent = Counter()
        for module, attribute, label in PARTS:
            _wrap(spent, module, attribute, label)
        photos = phone_photos(20)
        submission = signed_in_round(app, nip, token, photos)
        form_ms, post_ms = [], []
        for n in range(args.warmup + args.rounds):
            form_cpu, post_cpu = submission(n)
            if n == args.warmup - 1:
                spent.clear()
            elif n >= args.warmup:
                form_ms.append(1000 * form_cpu)
                post_ms.append(1000 * post_cpu)
    finally:
        drop()
    figures = {
        "rounds": args.rounds,
        "form_cpu_ms": round(statistics.median(form_ms), 2),
        "post_cpu_ms": round(statistics.median(post_ms), 2),
    }
    for _module, _attribute, label in PARTS:
        figures[f"{label}_cpu_ms_per_round"] = round(1000 * spent[label] / args.rounds, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
