"""Update confinement: a project's update reads and writes only the project's dataset, whatever
graph IRIs it names (another project's IRIs name graphs of the caller's own project)."""

from __future__ import annotations

import pytest

from kg_twin.errors import Forbidden, NotFound
from kg_twin.settings import Settings
from kg_twin.sparql.confine import Confinement, confine_update
from kg_twin.sparql.dataset import ProjectDataset
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
    return Confinement(ProjectDataset(P, "default"), graphs=sorted(set(graphs) | {P + "default"}))


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


OTHER_PROJECTS_IRIS = [
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
    f"PREFIX q: <{Q}> DROP GRAPH q:x",
    f"INSERT DATA {{ GRAPH <\\u0068ttp://t/graph/q/x> {{ <a:a> <a:b> 1 }} }}",
    f"BASE <{Q}> DROP GRAPH <x>",
]


@pytest.mark.parametrize("update", OTHER_PROJECTS_IRIS)
def test_other_projects_graph_iris_name_own_graphs(store, update):
    """Naming <Q x> from project p means p's own graph of that name: Q's data is never touched."""
    try:
        store.update(confine_update(update, conf(store)))
    except NotFound:  # p has no graph of that name (DROP / MOVE / ADD without SILENT)
        pass
    assert len(foreign_quads(store)) == 1
    for g in store.graphs():
        assert g.startswith(P) or g == Q + "x"


def test_load_is_refused_and_load_silent_does_nothing(store):
    with pytest.raises(Forbidden):
        confine_update("LOAD <http://example.org/data.ttl>", conf(store))
    assert confine_update("LOAD SILENT <http://example.org/data.ttl> INTO GRAPH <http://e/g>", conf(store)) == ""


def test_client_graph_names_round_trip(store):
    """A graph variable in a template writes to the graph it names, in the project; GRAPH ?g reads
    it back under the client's name."""
    c = conf(store)
    store.update(confine_update("INSERT DATA { <http://e/s> <http://e/in> <http://e/g1> }", c))
    store.update(confine_update("INSERT { GRAPH ?g { <http://e/s> <http://e/p> 1 } } WHERE { ?s <http://e/in> ?g }", conf(store)))
    assert store.select(f"SELECT * {{ GRAPH <{P}~/http://e/g1> {{ ?s ?p ?o }} }}") != []
    ds = ProjectDataset(P, "default")
    graphs = [g for g in store.graphs() if g.startswith(P)]
    q = ds.rewrite_query("SELECT ?g { GRAPH ?g { ?s <http://e/p> 1 } ?x <http://e/in> ?g }", ds.named_graphs(graphs))
    rows = store.select(q, dataset=Dataset(tuple(ds.default_graphs(graphs)), tuple(ds.named_graphs(graphs))))
    assert [str(r["g"]) for r in rows] == ["http://e/g1"]


def test_service_detection_sees_through_escapes_and_ignores_strings():
    assert service_targets('SELECT * { \\u0053ERVICE <http://evil/sparql> { ?s ?p ?o } }') == ["http://evil/sparql"]
    assert service_targets('SELECT * { ?s ?p "SERVICE <http://x>" } # SERVICE <http://y>') == []
    with pytest.raises(Forbidden):
        check_services("SELECT * { SERVICE ?ep { ?s ?p ?o } }", ["http://"])
    with pytest.raises(Forbidden):
        check_services("select * { service <http://evil/sparql> { ?s ?p ?o } }", ["http://good/"])
    check_services("SELECT * { SERVICE <http://good/sparql> { ?s ?p ?o } }", ["http://good/"])
