"""The examples people try first work on the demo: every named query's example call (the catalogue's
``#+ example:``) answers on project ``demo``, and the geographic ones find buildings around Olemps."""

from __future__ import annotations

import pytest

from kg_twin.catalog.catalog import default_catalog
from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.slow

CATALOGUE = default_catalog()
# examples that must find something in the demo (the others may rightly answer no rows there)
MUST_FIND = {"find-buildings-in-bbox", "find-buildings-in-area", "find-features-near-point", "list-buildings"}


@pytest.mark.parametrize("name", [s.name for s in CATALOGUE.list()])
def test_catalogue_example_answers_on_the_demo(demo_server: DemoServer, name: str) -> None:
    with demo_server.client() as c:
        spec = c.get(f"/queries/{name}").json()
        r = c.get(spec["example"].replace("{project}", "demo"), headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"] if spec["form"] == "SELECT" else None
    if name in MUST_FIND:
        assert rows, f"{spec['example']} found nothing in the demo"
