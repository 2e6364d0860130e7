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
