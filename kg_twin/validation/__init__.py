"""SHACL validation: shapes library (shapes.py), engine (engine.py), reports (report.py).

Entry points live in :mod:`kg_twin.validation.validator`.
"""

from kg_twin.validation.validator import (  # noqa: F401
    ENGINES,
    Outcome,
    parse_shapes,
    validate_files,
    validate_graphs,
    validate_project,
    validate_rdflib,
    validate_store,
    validate_view,
)
