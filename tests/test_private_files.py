"""Nothing sent to a signed-in person may be kept by a shared cache: every route, as every
role that may open it, answers with Cache-Control `private` (pages `no-store`, files
`no-cache` revalidated by their ETag), except the files that are the same for everyone."""

from tests.conftest import login
from tests.test_access_matrix import EXPECTED, LOGINS, world  # noqa: F401 (fixture)

SHARED = {
    "static",
    "asn.vendor",
    "public.favicon",
    "public.manifest",
    "public.service_worker",
}  # stylesheet, scripts, scanner, icon, web app manifest and worker


def test_every_answer_to_a_signed_in_person_is_private(app, world):  # noqa: F811
    clients = {}
    for role, (kind, identifier) in LOGINS.items():
        clients[role] = app.test_client()
        assert login(clients[role], kind, identifier).status_code == 302, role
    files, wrong = set(), []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SHARED | {"auth.logout"}:
            continue
        url = rule.build({arg: world[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for role, client in clients.items():
            if EXPECTED[rule.endpoint].get(role) != "ok":
                continue
            response = client.get(url)
            if response.status_code != 200:
                continue
            if response.mimetype != "text/html":
                files.add(rule.endpoint)
            cache = response.cache_control
            if not cache.private or not (cache.no_cache or cache.no_store):
                wrong.append(f"{url} as {role}: {response.headers.get('Cache-Control')}")
    assert not wrong, "\n".join(wrong)
    # The files the issue names were among the answers checked.
    assert {
        "asn.evidence_photo",
        "merchant.photo",
        "documents.own_download",
        "dinas.documents_download",
        "dinas.job_result",
        "dinas.export",
        "personal_data.download",
    } <= files
