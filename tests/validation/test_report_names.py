"""Report names: IRIs shortened with the shapes' and the project's prefixes."""

from __future__ import annotations

import pytest
import rdflib

from kg_twin.validation.report import _Names


def _reference(names: _Names, s: str) -> str:
    """The rule, written plainly: the first listed namespace that leaves a plain local name."""
    for ns, p in names.ns:
        if s.startswith(ns) and len(s) > len(ns) and all(c.isalnum() or c in "_-." for c in s[len(ns):]):
            return f"{p}:{s[len(ns):]}"
    return f"<{s}>"


@pytest.mark.parametrize("iri", [
    "http://ex/a", "http://ex/a/b", "http://ex/a#b", "urn:x:abc", "urn:x:a/b", "http://ex/", "http://ex/é²",
    "https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor", "http://www.w3.org/ns/shacl#Violation",
    "http://ex/a b", "http://ex/a.b-c_d", "urn:x:", "http://ex/a#",
])
def test_curie_follows_the_plain_rule(iri):
    g = rdflib.Graph()
    g.bind("ex", "http://ex/")
    g.bind("odd", "urn:x:")
    g.bind("exa", "http://ex/a#")
    names = _Names(g)
    assert names._curie(iri) == _reference(names, iri)


def test_ntriples_report_is_the_report_graph():
    """report_ntriples writes what build_report builds, SHACL-SPARQL's sh:sourceConstraint included."""
    from rdflib.compare import isomorphic

    from kg_twin.validation.report import build_report, report_ntriples
    from kg_twin.validation.validator import validate_rdflib

    data = rdflib.Graph().parse(data="""@prefix ex: <http://ex/> .
        ex:a a ex:Room ; ex:label "far too long a label" ; ex:in ex:b .
        ex:c a ex:Room .""", format="turtle")
    shapes = rdflib.Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:Room ;
          sh:property [ sh:path ex:label ; sh:maxLength 5 ] ;
          sh:property [ sh:path [ sh:inversePath ex:in ] ; sh:minCount 1 ] ;
          sh:sparql [ sh:select "SELECT $this WHERE { $this a <http://ex/Room> FILTER NOT EXISTS { $this <http://ex/label> ?l } }" ] .""", format="turtle")
    out = validate_rdflib(data, shapes, engine="auto")
    assert any(getattr(r, "source_constraint", None) is not None for r in out.results)
    fast = rdflib.Graph().parse(data=report_ntriples(out.results, shapes), format="nt")
    assert len(fast) > 20 and isomorphic(fast, build_report(out.results, shapes))
