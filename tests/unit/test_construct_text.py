"""``construct_into(bulk=True)`` on pyoxigraph writes the template instances as text from the
SELECT's TSV answer (:func:`kg_twin.store.bulk.tsv_instances`): the graph it writes must equal the
CONSTRUCT answer for every kind of term a solution can bind (TSV writes some literals bare)."""

from __future__ import annotations

import io

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg_twin.settings import Settings
from kg_twin.store import Construct, open_store, scratch_store

G, OUT = "http://g/data", "http://g/out"

DATA = r"""@prefix ex: <http://ex/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:p 1, -5, +7, 1.5, .5, "3."^^xsd:decimal, 1e3, 2.5E-2, true, false, "INF"^^xsd:double, "01"^^xsd:integer, " 7"^^xsd:integer,
  "plain", "tab\there", "line\nbreak \"quoted\" \\ back", "café ✓", "b"@en-GB, "d"^^<http://ex/dt>, ex:b, _:n1 .
_:n1 ex:p ex:a ; a ex:Thing .
ex:b a ex:Thing .
ex:c ex:other ex:a .
"""


def _dump(store, graph: str) -> Graph:
    out = io.BytesIO()
    store.dump(out, format="ntriples", graphs=[graph])
    return Graph().parse(data=out.getvalue(), format="nt")


def test_text_instances_equal_the_construct_answer(tmp_path):
    store = open_store(Settings(data_dir=tmp_path))
    try:
        store.load(DATA.encode(), format="turtle", graph=G)
        constructs = [
            # two variables, literal objects (an instance with a literal subject is dropped)
            Construct((("?s", "<http://ex/q>", "?o"), ("?o", "<http://ex/inv>", "?s")), f"GRAPH <{G}> {{ ?s <http://ex/p> ?o }}"),
            # one subject variable, constant heads (the fast path), blank node and IRI subjects
            Construct((("?s", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", "<http://ex/Super>"), ("?s", "<http://ex/tag>", "<http://ex/T>")), f"GRAPH <{G}> {{ ?s a <http://ex/Thing> }}"),
            # a variable predicate, and an OPTIONAL leaving a variable unbound (its instances are dropped)
            Construct((("?s", "?p", "?x"),), f"GRAPH <{G}> {{ ?s ?p <http://ex/a> OPTIONAL {{ ?s <http://ex/none> ?x }} }}"),
            Construct((("?s", "?p", "<http://ex/seen>"),), f"GRAPH <{G}> {{ ?s ?p <http://ex/a> }}"),
        ]
        store.construct_into(OUT, constructs, bulk=True)
        ref = scratch_store()
        ref.load(DATA.encode(), format="turtle", graph=G)
        expected = Graph().parse(data=b"".join(ref.construct(c.sparql()) for c in constructs), format="nt")
        got = _dump(store, OUT)
        # the answer holds the literals TSV writes bare (so the test exercises their conversion)
        kinds = {str(o.datatype).rsplit("#", 1)[-1] for o in expected.objects() if getattr(o, "datatype", None)}
        assert {"integer", "decimal", "double", "boolean"} <= kinds, kinds
        assert len(expected) > 25
        assert isomorphic(got, expected)
        # the blank node of the data is the same node in the written graph
        assert store.ask(f"ASK {{ GRAPH <{G}> {{ ?n <http://ex/p> <http://ex/a> }} GRAPH <{OUT}> {{ ?n a <http://ex/Super> }} FILTER(isBlank(?n)) }}")
    finally:
        store.close()


@pytest.fixture(params=["memory", "disk", "oxigraph"])
def any_store(request, tmp_path):
    if request.param == "memory":
        s = open_store(Settings(store="memory"))
    elif request.param == "disk":
        s = open_store(Settings(data_dir=tmp_path))
    else:  # a real external engine on loopback (tests/engines.py)
        engine = request.getfixturevalue("oxigraph_engine")
        s = open_store(engine.settings(data_dir=tmp_path))
        engine.reset(s)
    yield s
    s.close()


def test_replace_writes_exactly_the_answers_into_an_existing_graph(any_store):
    store = any_store
    store.load(DATA.encode(), format="turtle", graph=G)
    typed = Construct((("?s", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", "<http://ex/Super>"),), f"GRAPH <{G}> {{ ?s a <http://ex/Thing> }}")
    values = Construct((("?s", "<http://ex/q>", "?o"),), f"GRAPH <{G}> {{ ?s <http://ex/p> ?o }}")
    store.construct_into(OUT, [typed, values], bulk=True)
    # stale content: a triple no construct answers, and one about the data's blank node
    store.update(f"INSERT {{ GRAPH <{OUT}> {{ <http://ex/stale> <http://ex/q> 1 . ?n <http://ex/stale> ?n }} }} WHERE {{ GRAPH <{G}> {{ ?n <http://ex/p> <http://ex/a> }} }}")
    store.update(f"DELETE DATA {{ GRAPH <{G}> {{ <http://ex/b> a <http://ex/Thing> }} }} ; INSERT DATA {{ GRAPH <{G}> {{ <http://ex/c> a <http://ex/Thing> }} }}")
    store.construct_into(OUT, [typed, values], bulk=True, replace=True)
    ref = scratch_store()
    out = io.BytesIO()
    store.dump(out, format="ntriples", graphs=[G])
    ref.load(out.getvalue(), format="ntriples", graph=G)
    expected = Graph().parse(data=b"".join(ref.construct(c.sparql()) for c in (typed, values)), format="nt")
    assert isomorphic(_dump(store, OUT), expected)
    assert not store.ask(f"ASK {{ GRAPH <{OUT}> {{ <http://ex/b> a <http://ex/Super> }} }}")
    assert store.ask(f"ASK {{ GRAPH <{G}> {{ ?n a <http://ex/Thing> }} GRAPH <{OUT}> {{ ?n a <http://ex/Super> }} FILTER(isBlank(?n)) }}")
    store.construct_into(OUT, [], bulk=True, replace=True)  # no answer: the graph goes
    assert not store.has_graph(OUT)
