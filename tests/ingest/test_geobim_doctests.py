"""The docstring examples of the GIS / BIM / document modules run."""

import doctest
import importlib

import pytest

MODULES = [
    "kg_twin.geo.crs",
    "kg_twin.geo.geometry",  # prepare and prepare_many
    "kg_twin.ingest.mappers.attributes",
    "kg_twin.ingest.readers.ifc",
    "kg_twin.ingest.readers.document",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
