"""Reasoning over the twin: OWL consistency of the ontology bundle (:mod:`.owl`) and per-project
inference into a separate inferred graph: the profile (:mod:`.profile`), its rules as SPARQL
(:mod:`.rules`, :mod:`.tags`), full and incremental materialisation in the store (:mod:`.infer`)
and the service's refresher (:mod:`.refresh`)."""
