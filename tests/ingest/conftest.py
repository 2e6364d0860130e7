from __future__ import annotations

import pytest

from kg_twin.ingest.base import MapContext
from kg_twin.terms import Naming



@pytest.fixture
def ctx_for():
    def make(name: str) -> MapContext:
        return MapContext(Naming("http://twin.test/"), "demo", "http://twin.test/source/demo/" + name, name)

    return make
