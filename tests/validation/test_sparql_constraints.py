"""SHACL-SPARQL constraints (sh:sparql / sh:select) in the kgtwin engine, checked against pyshacl;
custom SPARQL-based constraint components are refused by kgtwin and routed to pyshacl by ``auto``."""

from __future__ import annotations

import pytest
import rdflib

from kg_twin.errors import InputError
from kg_twin.validation import validate_rdflib

DATA = """
@prefix ex: <http://example.org/> .
ex:a a ex:Room ; ex:area 12 ; ex:label "A" .
ex:b a ex:Room ; ex:area -3 ; ex:label "B" , "Bee" .
ex:c a ex:Room .
"""

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] .
ex:RoomShape a sh:NodeShape ;
    sh:targetClass ex:Room ;
    sh:sparql [
        a sh:SPARQLConstraint ;
        sh:prefixes ex: ;
        sh:message "Room {$this} has a negative area {?value}" ;
        sh:select "SELECT $this ?value WHERE { $this ex:area ?value . FILTER(?value < 0) }" ;
    ] ;
    sh:property ex:LabelShape .
ex:LabelShape a sh:PropertyShape ;
    sh:path ex:label ;
    sh:sparql [
        a sh:SPARQLConstraint ;
        sh:prefixes ex: ;
        sh:select "SELECT $this ?value WHERE { $this $PATH ?value . $this $PATH ?other . FILTER(?value != ?other && STRLEN(?value) < STRLEN(?other)) }" ;
    ] .
"""


def _keys(out):
    return sorted((str(r.focus), str(r.value), str(r.component).rsplit("#", 1)[-1]) for r in out.results)


def test_sparql_constraints_match_pyshacl():
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    ours = validate_rdflib(data, shapes, engine="kgtwin")
    ref = validate_rdflib(data, shapes, engine="pyshacl")
    assert _keys(ours) == _keys(ref) == [
        ("<http://example.org/b>", '"-3"^^<http://www.w3.org/2001/XMLSchema#integer>', "SPARQLConstraintComponent"),
        ("<http://example.org/b>", '"B"', "SPARQLConstraintComponent"),
    ]
    msgs = [str(m) for r in ours.results for m in r.messages]
    assert "Room <http://example.org/b> has a negative area -3" in msgs
    report = ours.report
    assert len(list(report.objects(None, rdflib.URIRef("http://www.w3.org/ns/shacl#sourceConstraint")))) == 2


CUSTOM = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:MaxAreaComponent a sh:ConstraintComponent ;
    sh:parameter [ sh:path ex:maxArea ] ;
    sh:validator [ a sh:SPARQLAskValidator ; sh:ask "ASK { FILTER (!isNumeric($value) || $value <= $maxArea) }" ] .
ex:RoomShape a sh:NodeShape ; sh:targetClass ex:Room ;
    sh:property [ sh:path ex:area ; ex:maxArea 10 ] .
"""


def test_custom_components_run_in_kgtwin_like_pyshacl():
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=CUSTOM, format="turtle")
    ours = validate_rdflib(data, shapes, engine="kgtwin")
    ref = validate_rdflib(data, shapes, engine="pyshacl")
    # an ASK validator's result names the value node (SHACL 6.3.1); pyshacl leaves sh:value out here
    assert _keys(ours) == [("<http://example.org/a>", '"12"^^<http://www.w3.org/2001/XMLSchema#integer>', "http://example.org/MaxAreaComponent")]
    assert [(str(r.focus), str(r.component)) for r in ours.results] == [(str(r.focus), str(r.component)) for r in ref.results]
    assert set(ours.summary.engines.values()) == {"kgtwin"}
    # auto hands pyshacl only what kgtwin refuses: nothing here
    assert set(validate_rdflib(data, shapes, engine="auto").summary.engines.values()) == {"kgtwin"}


def test_component_without_a_validator_for_the_shape_kind_is_an_error():
    shapes = rdflib.Graph().parse(data=CUSTOM.replace("sh:validator [ a sh:SPARQLAskValidator ; sh:ask", "sh:nodeValidator [ a sh:SPARQLSelectValidator ; sh:select").replace(
        '"ASK { FILTER (!isNumeric($value) || $value <= $maxArea) }"', '"SELECT $this WHERE { FILTER (false) }"'), format="turtle")
    with pytest.raises(InputError) as e:
        validate_rdflib(rdflib.Graph().parse(data=DATA, format="turtle"), shapes)
    assert e.value.code == "SHACL_COMPONENT_NO_VALIDATOR" and "propertyValidator" in e.value.hint


def test_shapes_graph_on_a_shared_store_is_an_error_not_unbound(twin):
    from kg_twin.validation.validator import validate_store

    twin.projects.create("sg")
    g = twin.naming.graph("sg", "data")
    twin.store.load(DATA.encode(), format="turtle", graph=g)
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <http://example.org/S> a sh:NodeShape ; sh:targetClass <http://example.org/Room> ;
          sh:sparql [ sh:select "SELECT DISTINCT $this WHERE { GRAPH $shapesGraph { $currentShape a sh:NodeShape } }" ; sh:prefixes [ sh:declare [ sh:prefix "sh" ; sh:namespace "http://www.w3.org/ns/shacl#" ] ] ] .""", format="turtle")
    with pytest.raises(InputError) as e:
        validate_store(twin.store, [g], shapes, closure_files=[])
    assert e.value.code == "SHACL_SHAPES_GRAPH_UNAVAILABLE"
    # the same shapes on the same data as a file: $shapesGraph is the shapes graph
    out = validate_rdflib(rdflib.Graph().parse(data=DATA, format="turtle"), shapes)
    assert sorted(str(r.focus) for r in out.results) == ["<http://example.org/a>", "<http://example.org/b>", "<http://example.org/c>"]


def test_ill_typed_literal_stays_ill_typed_through_the_store():
    """The store keeps "300"^^xsd:byte as the integer 300; the verdict and the report use the literal as written."""
    data = rdflib.Graph().parse(data='<http://x/i> <http://x/p> "300"^^<http://www.w3.org/2001/XMLSchema#byte> , "12"^^<http://www.w3.org/2001/XMLSchema#byte> .', format="turtle")
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <http://x/S> sh:targetNode <http://x/i> ; sh:path <http://x/p> ; sh:datatype <http://www.w3.org/2001/XMLSchema#byte> .""", format="turtle")
    for pushdown in (True, False):
        out = validate_rdflib(data, shapes, pushdown=pushdown)
        assert [str(r.value) for r in out.results] == ['"300"^^<http://www.w3.org/2001/XMLSchema#byte>']
