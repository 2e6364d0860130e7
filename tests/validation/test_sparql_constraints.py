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


def test_custom_components_refused_by_kgtwin_and_routed_by_auto():
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=CUSTOM, format="turtle")
    with pytest.raises(InputError) as e:
        validate_rdflib(data, shapes, engine="kgtwin")
    assert e.value.code == "SHACL_CUSTOM_COMPONENT_UNSUPPORTED"
    out = validate_rdflib(data, shapes, engine="auto")
    assert set(out.summary.engines.values()) == {"pyshacl"}
    assert [str(r.focus) for r in out.results] == ["<http://example.org/a>"]
    assert all(r.engine == "pyshacl" for r in out.results)
