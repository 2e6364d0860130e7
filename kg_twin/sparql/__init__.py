"""SPARQL text analysis: a lexer, SERVICE checks and update confinement."""
