"""The OpenAPI document: unique operationIds, declared errors with the one error body, limits, local docs pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from kg_twin.api.app import create_app
from kg_twin.settings import Settings

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(store="memory", data_dir=tmp_path_factory.mktemp("openapi"), infer_on_change=False)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_operation_ids_are_unique(doc: dict[str, Any]) -> None:
    ids = [op.get("operationId") for _, _, op in _operations(doc)]
    assert all(ids), "every operation has an operationId"
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert dupes == []
    assert len(ids) > 50  # all routers are in the document


def test_no_framework_422_and_errors_use_the_error_body(doc: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        assert "500" in responses, where
        sparql = path == "/sparql" or path.endswith("/sparql")
        for code, resp in responses.items():
            if int(code) < 400:
                continue
            content = resp.get("content", {})
            if sparql:
                assert list(content) == ["text/plain"], f"{where} {code}: SPARQL errors are plain text"
            else:
                schema = content["application/json"]["schema"]["$ref"]
                assert schema.rsplit("/", 1)[1] in ("ErrorBody", "IngestViolationBody"), f"{where} {code}"
            if code == "422":
                assert path.endswith("/ingest"), f"{where}: only ingest answers 422 (SHACL violations)"


def test_every_project_operation_declares_access_errors(doc: dict[str, Any]) -> None:
    for path, method, op in _operations(doc):
        if "{project}" in path:
            assert {"401", "403", "404"} <= set(op["responses"]), f"{method.upper()} {path}"


def test_request_limits_are_documented(doc: dict[str, Any]) -> None:
    text = doc["info"]["description"]
    for setting in ("KG_TWIN_MAX_QUERY_BYTES", "KG_TWIN_MAX_SPARQL_DEPTH", "KG_TWIN_MAX_JSON_BYTES", "KG_TWIN_MAX_NESTING_DEPTH", "KG_TWIN_MAX_YAML_NODES", "KG_TWIN_MAX_UPLOAD_BYTES"):
        row = re.search(rf"\| `{setting}` \| (\d+) \|", text)
        assert row, setting
    assert re.search(r"\| `KG_TWIN_MAX_QUERY_BYTES` \| 1000000 \|", text)


def test_validation_errors_are_400_with_the_error_body(client: TestClient) -> None:
    r = client.get("/ontologies/brick", params={"format": "nope"})
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and body["status"] == 400 and body["code"] == "BAD_REQUEST"
    assert body["errors"] and body["errors"][0]["loc"] == ["query", "format"]


def test_framework_404_and_405_use_the_error_body(client: TestClient) -> None:
    r = client.get("/no/such/route")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND" and r.json()["ok"] is False
    r = client.put("/health")
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in r.headers["allow"]


def test_validation_request_fields_are_typed(client: TestClient) -> None:
    admin = client.app.state.twin.access.tokens.create("*", "admin", "t").secret  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {admin}"}
    assert client.post("/projects", json={"id": "v1"}, headers=h).status_code == 201
    r = client.post("/projects/v1/validate", json={"shape_sets": [{}]}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST"
    assert r.json()["errors"][0]["loc"] == ["shape_sets", 0]


def test_docs_pages_load_their_assets_from_this_server(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html)
        urls = [a or b for a, b in urls]
        assert urls, page
        for u in urls:
            assert not re.match(r"https?://", u), f"{page} loads {u} from the internet"
            if u.startswith("/static/"):
                assert client.get(u).status_code == 200, u
    assert (Path(__file__).parents[2] / "kg_twin/api/static/VENDOR.md").is_file()
