"""Reasoning over the twin: OWL consistency of the ontology bundle (:mod:`.owl`) and per-project
Brick / RDFS / OWL-RL inference into a separate inferred graph (:mod:`.brick`)."""
