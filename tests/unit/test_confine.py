"""Update confinement: a project's update can only read and write the project's graphs."""

from __future__ import annotations

import pytest

from kg_twin.errors import Forbidden
from kg_twin.settings import Settings
from kg_twin.sparql.confine import Confinement, confine_update
from kg_twin.sparql.lexer import check_services, service_targets
from kg_twin.store import Dataset, open_store

P = "http://t/graph/p/"
Q = "http://t/graph/q/"
SECRET = f"INSERT DATA {{ GRAPH <{Q}x> {{ <http://o> <http://p> \"secret\" }} }}"


@pytest.fixture
def store():
    s = open_store(Settings(store="memory"))
    s.update(SECRET)
    return s


def conf(store):
    graphs = [g for g in store.graphs() if g.startswith(P)]
    return Confinement(default_graph=P + "default", graphs=sorted(set(graphs) | {P + "default"}), owns=lambda g: g.startswith(P))


def foreign_quads(store):
    return store.select(f"SELECT ?s ?p ?o {{ GRAPH <{Q}x> {{ ?s ?p ?o }} }}")


ALLOWED = [
    'PREFIX ex: <http://ex/> INSERT DATA { ex:s ex:p "x"@en . GRAPH <http://t/graph/p/a> { ex:s ex:q 1 } ex:t ex:p 2 }',
    "INSERT { GRAPH <http://t/graph/p/copy> { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT { ?s <http://ex/seen> ?o } WHERE { ?s ?p ?o }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR DEFAULT ; DROP ALL ; CREATE GRAPH <http://t/graph/p/new> ; COPY DEFAULT TO <http://t/graph/p/b>",
    "BASE <http://t/graph/p/> INSERT DATA { GRAPH <rel> { <x> <y> <z> } }",
]


@pytest.mark.parametrize("update", ALLOWED)
def test_allowed_updates_stay_inside(store, update):
    store.update(confine_update(update, conf(store)))
    for g in store.graphs():
        assert g.startswith(P) or g == Q + "x"
    assert len(foreign_quads(store)) == 1


def test_where_cannot_read_other_projects(store):
    store.update(confine_update("INSERT { <http://me> <http://saw> ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", conf(store)))
    store.update(confine_update("INSERT { <http://me> <http://saw2> ?o } WHERE { ?s ?p ?o }", conf(store)))
    assert store.select("SELECT * { GRAPH ?g { <http://me> ?p ?o } }") == []


def test_insert_data_default_goes_to_project_default(store):
    store.update(confine_update("INSERT DATA { <http://a> <http://b> 1 }", conf(store)))
    rows = store.select("SELECT ?g { GRAPH ?g { <http://a> <http://b> 1 } }")
    assert [str(r["g"]) for r in rows] == [P + "default"]
    assert store.select("SELECT * { <http://a> ?p ?o }", dataset=Dataset(None, ())) == []  # store default untouched


FORBIDDEN = [
    f"INSERT DATA {{ GRAPH <{Q}x> {{ <a:a> <a:b> 1 }} }}",
    f"DELETE DATA {{ GRAPH <{Q}x> {{ <http://o> <http://p> \"secret\" }} }}",
    f"DROP GRAPH <{Q}x>",
    f"CLEAR SILENT GRAPH <{Q}x>",
    f"COPY <{P}a> TO <{Q}x>",
    f"MOVE <{Q}x> TO <{P}a>",
    f"ADD <{Q}x> TO DEFAULT",
    f"WITH <{Q}x> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    f"DELETE {{ ?s ?p ?o }} USING <{Q}x> WHERE {{ ?s ?p ?o }}",
    f"INSERT {{ ?s ?p ?o }} USING NAMED <{Q}x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    f"INSERT {{ GRAPH ?g {{ <a:a> <a:b> 1 }} }} WHERE {{ BIND(<{Q}x> AS ?g) }}",
    "LOAD <http://example.org/data.ttl>",
    f"PREFIX q: <{Q}> DROP GRAPH q:x",
    f"INSERT DATA {{ GRAPH <\\u0068ttp://t/graph/q/x> {{ <a:a> <a:b> 1 }} }}",
    f"BASE <{Q}> DROP GRAPH <x>",
]


@pytest.mark.parametrize("update", FORBIDDEN)
def test_forbidden_updates_are_refused(store, update):
    with pytest.raises(Forbidden):
        confine_update(update, conf(store))
    assert len(foreign_quads(store)) == 1


def test_service_detection_sees_through_escapes_and_ignores_strings():
    assert service_targets('SELECT * { \\u0053ERVICE <http://evil/sparql> { ?s ?p ?o } }') == ["http://evil/sparql"]
    assert service_targets('SELECT * { ?s ?p "SERVICE <http://x>" } # SERVICE <http://y>') == []
    with pytest.raises(Forbidden):
        check_services("SELECT * { SERVICE ?ep { ?s ?p ?o } }", ["http://"])
    with pytest.raises(Forbidden):
        check_services("select * { service <http://evil/sparql> { ?s ?p ?o } }", ["http://good/"])
    check_services("SELECT * { SERVICE <http://good/sparql> { ?s ?p ?o } }", ["http://good/"])
