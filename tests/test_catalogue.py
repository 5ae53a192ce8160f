"""Every message a person can see goes through the catalogue, in both languages.

The English catalogue must translate every string Babel extracts (as `make messages` does);
the Indonesian `wtforms` domain must translate every built-in message of WTForms and
Flask-WTF. Then every page, walked in both languages as each kind of account, with its forms
sent empty, shows no framework message of the other language.
"""

import re
from pathlib import Path

import flask_wtf
import pytest
import wtforms
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.conftest import csrf_token, login
from tests.test_access_matrix import LOGINS, world  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "promkm_qr" / "translations"


def _incomplete(template, catalogue) -> list[str]:
    """The msgids of template without a translation (missing, empty or fuzzy) in catalogue."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalogue.get(message.id, context=message.context)
        strings = found.string if found is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def test_english_catalogue_translates_every_extracted_message(tmp_path):
    pot = tmp_path / "messages.pot"
    babel_cfg = str(ROOT / "babel.cfg")
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", babel_cfg, "-k", "_l", "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as handle:
        template = read_po(handle)
    assert len(template) > 400  # the extraction really ran over the code and templates
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        english = read_po(handle)
    assert _incomplete(template, english) == []


def framework_messages() -> list:
    """WTForms' and Flask-WTF's own translatable messages, extracted from the installed code."""
    found = {}
    for package in (wtforms, flask_wtf):
        for *_, message, _comments, _context in extract_from_dir(
            Path(package.__file__).parent, keywords={"gettext": None, "ngettext": (1, 2)}
        ):
            found[message] = message
    return list(found)


def _indonesian():
    with (TRANSLATIONS / "id" / "LC_MESSAGES" / "wtforms.po").open("rb") as handle:
        return read_po(handle)


def test_indonesian_catalogue_translates_every_framework_message():
    from babel.messages.catalog import Catalog

    template = Catalog()
    for message in framework_messages():
        template.add(message)
    assert len(template) > 30
    assert _incomplete(template, _indonesian()) == []


def _framework_texts() -> dict[str, set[str]]:
    """What a framework message looks like on a page of each language (before formatting)."""
    english, indonesian = set(), set()
    for message in _indonesian():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # The fixed part before any placeholder is what a page would show.
        english |= {text.split("%(")[0].split("{")[0].strip() for text in ids}
        indonesian |= {text.split("%(")[0].split("{")[0].strip() for text in strings}
    return {"id": {t for t in english if len(t) > 8}, "en": {t for t in indonesian if len(t) > 8}}


# The Indonesian month names English does not share: an English page names its months in English.
INDONESIAN_MONTH = re.compile(
    r"\b(?:Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember)\b"
)

WALKERS = {
    "anon": None,
    "asn": LOGINS["asn"],
    "merchant": LOGINS["merchant"],
    "admin": LOGINS["admin"],
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_no_page_shows_the_other_languages_framework_messages(app, world, lang):  # noqa: F811
    foreign = _framework_texts()[lang]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "auth.logout"]
    seen = []
    for who, account in WALKERS.items():
        client = app.test_client()
        if account:
            assert login(client, *account).status_code == 302
        client.get(f"/auth/masuk?lang={lang}")
        token = csrf_token(client, "/auth/masuk" if who == "anon" else "/auth/sandi")
        for rule in rules:
            url = rule.build({arg: world[arg] for arg in rule.arguments}, append_unknown=False)[1]
            answers = []
            if "GET" in rule.methods:
                answers.append(client.get(url))
            if "POST" in rule.methods:
                # Sent empty, so every form shows its messages for missing and invalid input.
                answers.append(client.post(url, data={"csrf_token": token, "role": "x"}))
            for response in answers:
                if response.mimetype != "text/html":
                    continue
                html = response.get_data(as_text=True)
                seen.append(url)
                shown = sorted(text for text in foreign if text in html)
                if lang == "en":
                    shown += INDONESIAN_MONTH.findall(html)
                assert not shown, f"{lang} page {url} as {who} shows {shown}"
    assert len(seen) > 80


def test_core_messages_follow_the_page_language(client):
    from tests.factories import make_staff

    make_staff("operator", username="operator")
    login(client, "dinas", "operator")
    url = "/dinas/lapak/baru"
    data = {"name": "Warung", "owner_nik": "12345", "phone": "1234", "qris_payload": "x"}
    client.get(url + "?lang=en")
    html = client.post(url, data={**data, "csrf_token": csrf_token(client, url)}).get_data(
        as_text=True
    )
    assert "Wrong NIK length: it must have 16 digits, 5 were typed." in html
    assert "The phone number must start with 08, 62 or +62." in html
    assert "Panjang NIK salah" not in html
    client.get(url + "?lang=id")
    html = client.post(url, data={**data, "csrf_token": csrf_token(client, url)}).get_data(
        as_text=True
    )
    assert "Panjang NIK salah: harus 16 digit, tertulis 5 digit." in html


def test_job_pages_name_kind_and_state_in_the_page_language(client):
    from promkm_qr.extensions import db
    from promkm_qr.jobs import create_job, finish_job
    from tests.factories import make_staff

    staff = make_staff("operator", username="operator")
    job = create_job("documents", {"period": "2026-10"}, created_by_id=staff.id)
    finish_job(job)
    db.session.commit()
    login(client, "dinas", "operator")
    html = client.get(f"/dinas/jobs/{job.id}").get_data(as_text=True)
    assert "Dokumen bulanan · <span data-job-state>selesai</span>" in html
    documents = client.get("/dinas/dokumen").get_data(as_text=True)
    assert "· selesai" in documents and "· done" not in documents
    assert client.get(f"/dinas/jobs/{job.id}.json?lang=en").json["state_label"] == "done"


def test_report_states_are_named_not_coded(client):
    from tests.factories import make_staff

    html = client.get("/statistik").get_data(as_text=True)
    assert "berstatus Menunggu konfirmasi penjual, Dikonfirmasi penjual" in html
    assert "submitted" not in html
    make_staff("admin", username="admin")
    login(client, "dinas", "admin")
    settings = client.get("/dinas/pengaturan").get_data(as_text=True)
    assert "> Diverifikasi dinas</label>" in settings and "> verified</label>" not in settings
