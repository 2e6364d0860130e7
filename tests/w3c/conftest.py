"""Fixtures of the W3C replays: one ``oxigraph serve`` and one kg-twin live server per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.w3c.servers import Backend, KgTwinBackend, OxigraphBackend, oxigraph_serve


@pytest.fixture(scope="session")
def oxigraph_url() -> Iterator[str]:
    with oxigraph_serve() as url:
        yield url


@pytest.fixture(scope="session")
def oxigraph_backend(oxigraph_url: str) -> OxigraphBackend:
    return OxigraphBackend(oxigraph_url)


@pytest.fixture(scope="session")
def kg_twin_backend(make_live_server: Any) -> KgTwinBackend:
    # a server of its own (the replays create ~300 projects), configured as a deployment is by default:
    # inference on change on, so the suites also show that inference never changes an answer
    return KgTwinBackend(make_live_server(infer_on_change=True))


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    """``oxigraph`` or ``kg-twin`` (indirect parameter)."""
    name = request.param
    return request.getfixturevalue({"oxigraph": "oxigraph_backend", "kg-twin": "kg_twin_backend"}[name])
