"""The engine: pure functions that implement docs/methodology.md; no I/O, `now` passed in."""
