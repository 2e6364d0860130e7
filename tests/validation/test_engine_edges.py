"""Engine edge cases: store regex dialect fallback, bad IRIs from request bodies, literal fidelity."""

from __future__ import annotations

import pytest
import rdflib

from kg_twin.errors import InputError
from kg_twin.validation import validate_rdflib

DATA = rdflib.Graph().parse(data="""@prefix ex: <http://example.org/> .
ex:a ex:code "abc" . ex:b ex:code "xbc" . ex:c ex:size "4.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .""", format="turtle")


def test_lookahead_pattern_falls_back_to_python_regex():
    """Rust regex (the store's) has no lookahead; the shape is then checked in Python, same result."""
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:code ; sh:property [ sh:path ex:code ; sh:pattern "^(?=a)[a-z]+$" ] .""", format="turtle")
    out = validate_rdflib(DATA, shapes)
    assert [str(r.focus) for r in out.results] == ["<http://example.org/b>"]
    assert out.stats["kgtwin_paths"]["general"] >= 1


def test_bad_iri_in_shapes_is_an_input_error():
    shapes = rdflib.Graph()
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    s = rdflib.URIRef("http://example.org/S")
    shapes.add((s, rdflib.RDF.type, sh.NodeShape))
    shapes.add((s, sh.targetSubjectsOf, rdflib.URIRef("http://x> } SELECT * { ?s ?p ?o")))
    shapes.add((s, sh.nodeKind, sh.IRI))
    with pytest.raises(InputError) as e:
        validate_rdflib(DATA, shapes)
    assert e.value.code == "SHACL_BAD_IRI"


def test_values_reported_as_written():
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:size ; sh:property [ sh:path ex:size ; sh:maxInclusive 3 ] .""", format="turtle")
    out = validate_rdflib(DATA, shapes)
    assert [r.value.value for r in out.results] == ["4.0"]  # the store keeps 4.0 as "4"
