"""The OpenAPI document tells the truth: every operation of /api/v1 declares the schema of its
answer, the access key it needs (all but health, enrolment and the seal, which custodians of a
sealed server use before anyone can be authenticated), and the errors it answers, each with the
one error body."""

from __future__ import annotations

import httpx

OPEN = {("get", "/api/v1/health"), ("post", "/api/v1/enrol"), ("get", "/api/v1/seal"),
        ("post", "/api/v1/seal/shares"), ("post", "/api/v1/seal/reset")}
EVERY_ROUTE_ERRORS = {"400", "422", "503"}  # plain text, the declared schema, the server's state


def _document(world) -> dict:
    answer = httpx.get(f"{world.base}/api/v1/openapi.json", timeout=30)
    assert answer.status_code == 200
    return answer.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        if path.startswith("/api/v1/"):
            for method, operation in item.items():
                yield method, path, operation


def test_the_access_key_is_a_bearer_scheme(world):
    schemes = _document(world)["components"]["securitySchemes"]
    assert schemes == {"accessKey": {"type": "http", "scheme": "bearer", "bearerFormat": "cvk_...",
                                     "description": "an access key: 'Authorization: Bearer cvk_...'"}}


def test_every_operation_declares_its_answer_its_key_and_its_errors(world):
    document = _document(world)
    operations = list(_operations(document))
    assert len(operations) >= 30
    error_ref = "#/components/schemas/ErrorOut"
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"error", "message"}
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        successes = [s for s in responses if s.startswith("2")]
        assert len(successes) == 1, where
        content = responses[successes[0]]["content"]
        schema = (content.get("application/json") or content["application/octet-stream"])["schema"]
        assert schema.get("$ref") or schema.get("items", {}).get("$ref") or schema.get("format") == "binary", where
        if (method, path) in OPEN:
            assert "security" not in operation, where
            assert ("401" in responses) is (path == "/api/v1/enrol"), where  # an enrolment code that fails
        else:
            assert operation["security"] == [{"accessKey": []}], where
            assert "401" in responses, where
        errors = {s for s in responses if s[0] in "45"}
        assert (EVERY_ROUTE_ERRORS if path != "/api/v1/health" else {"400"}) <= errors, where
        if "{" in path:
            assert "404" in errors, where
        for status in errors - ({"409"} if path == "/api/v1/audit/verify" else set()):  # a broken chain: the report
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": error_ref}, (where, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]  # 422 has the one error body


def test_the_statuses_a_route_is_known_to_answer_are_declared(world):
    responses = {(m, p): set(o["responses"]) for m, p, o in _operations(_document(world))}
    assert {"201", "403", "404", "409", "413", "415", "422"} <= responses[("post", "/api/v1/documents")]
    assert {"200", "409", "403"} <= responses[("get", "/api/v1/audit/verify")]
    assert {"401", "409", "422"} <= responses[("post", "/api/v1/enrol")]
    assert {"403", "404"} <= responses[("post", "/api/v1/search")]
    assert "403" in responses[("get", "/api/v1/users")]
