"""Fixtures: a twin with the catalogue fixture territory (tests/data/catalog/*.ttl) in project
'campus', a second private project 'other' with data that must never leak, a TestClient, and a
live uvicorn server on an on-disk store (query worker processes) for access-control tests."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from kg_twin.api.app import create_app
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"
EX = "https://data.example.org/campus/"
SECRET = "https://data.example.org/other/secret-building"

OTHER_TTL = f"""
@prefix bot: <https://w3id.org/bot#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix kgt: <https://w3id.org/kg-twin/ontology#> .
<{SECRET}> a bot:Building ; rdfs:label "Secret building" ;
    bot:hasStorey <{SECRET}/storey-0> ;
    kgt:source <https://data.example.org/other/secret-source> ;
    geo:hasGeometry [ geo:asWKT "POLYGON ((5.7601 45.1901, 5.7603 45.1901, 5.7603 45.1902, 5.7601 45.1902, 5.7601 45.1901))"^^geo:wktLiteral ] .
<{SECRET}/storey-0> a bot:Storey ; bot:hasSpace <{SECRET}/vault> .
"""


def populate(twin: Twin) -> None:
    twin.projects.create("campus", title="Campus Nord")
    for f in sorted(DATA.glob("*.ttl")):
        twin.store.load(str(f), format="turtle", graph=twin.naming.graph("campus", f.stem))
    twin.projects.create("other", title="Other (private)")
    twin.store.load(OTHER_TTL.encode(), format="turtle", graph=twin.naming.graph("other", "buildings"))


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("catalog"), query_timeout_s=20))
    populate(t)
    yield t
    t.close()


@pytest.fixture(scope="module")
def client(twin: Twin) -> Iterator[object]:
    from fastapi.testclient import TestClient

    app = create_app(twin.settings, twin=twin)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def admin_token(twin: Twin) -> str:
    return twin.access.tokens.create("*", "admin").secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    def __init__(self, url: str, twin: Twin) -> None:
        self.url = url
        self.twin = twin


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A real server on 127.0.0.1 with an on-disk store: queries run in worker processes."""
    import uvicorn

    settings = Settings(store="oxigraph", data_dir=tmp_path_factory.mktemp("live"), query_workers=1, query_timeout_s=20, infer_on_change=False)
    t = create_twin(settings)
    populate(t)
    app = create_app(settings, twin=t)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, loop="asyncio", log_level="warning", lifespan="on"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not th.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", t)
    finally:
        server.should_exit = True
        th.join(timeout=20)
        t.close()
