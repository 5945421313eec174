"""The engine: pure functions that implement METRICS.md; no I/O, `now` passed in."""
