"""Link discovery across sources: specifications, measures, candidates, scores, a review queue (docs/links.md)."""
