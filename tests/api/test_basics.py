"""The API's frame: its document, reference page and problem documents."""

from tests.api.conftest import bearer


def test_openapi_document_is_3_1_and_lists_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/compliance/asn", "/api/v1/compliance/opd", "/api/v1/reports",
            "/api/v1/stalls"} <= set(spec["paths"])  # fmt: skip
    for item in spec["paths"].values():
        for op in (item[m] for m in ("get", "post", "put", "delete") if m in item):
            assert op["security"] == [{"bearerAuth": []}]
            assert {"401", "403", "429"} <= set(op["responses"])


def test_reference_page_lists_operations_without_scripts(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "GET /api/v1/compliance/asn" in page
    assert "<script" not in page


def test_errors_under_api_are_problem_documents(client, app):
    missing = client.get("/api/v1/stalls")
    assert missing.status_code == 401
    assert missing.mimetype == "application/problem+json"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.get_json()["status"] == 401
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    headers = bearer("read:stalls")
    extra = client.get("/api/v1/stalls?colour=red", headers=headers)
    assert extra.status_code == 422 and extra.mimetype == "application/problem+json"
    assert "colour" in str(extra.get_json()["errors"])
    cursor = client.get("/api/v1/stalls?cursor=bm90IGpzb24", headers=headers)
    assert cursor.status_code == 400 and cursor.mimetype == "application/problem+json"
    # Pages outside the API keep their HTML error pages.
    assert client.get("/tidak-ada").mimetype == "text/html"


def test_too_many_calls_get_429_with_retry_after(client, app):
    headers = bearer("read:stalls")
    app.config["API_RATE_LIMIT"] = "2/minute"
    try:
        answers = [client.get("/api/v1/stalls", headers=headers) for _ in range(3)]
    finally:
        del app.config["API_RATE_LIMIT"]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].mimetype == "application/problem+json"
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 61
    # Another client has its own allowance.
    assert client.get("/api/v1/stalls", headers=bearer("read:stalls")).status_code == 200
