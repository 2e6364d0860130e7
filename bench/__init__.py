"""kg-twin benchmarks: `python -m bench [--quick]` regenerates docs/benchmarks.md."""
