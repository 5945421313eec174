"""A poll's ride states as one short text on the poll's row.

Recomputing a park day after every poll reads all of that day's polls; one row per poll
with this text is what keeps that cheap (a day of a 75-ride park is 144 rows instead of
10,800 snapshots). The snapshots keep the raw readings; this keeps what docs/methodology.md
derives from them. Format: comma-separated `{ride id}{o|c|u}{wait}`, the wait in minutes
and left out when there is none, e.g. `601o35,602c,603u`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from themepark_tracker.engine.states import State

_LETTERS: dict[str, str] = {"open": "o", "closed": "c", "unknown": "u"}
_STATES: dict[str, State] = {"o": "open", "c": "closed", "u": "unknown"}
_TOKEN = re.compile(r"(\d+)([ocu])(\d*)")


def encode(snapshots: Iterable[Mapping[str, Any]]) -> str:
    """From snapshot rows (`ride_id`, `state`, `wait_time`)."""
    return ",".join(
        f"{row['ride_id']}{_LETTERS[row['state']]}"
        f"{'' if row['wait_time'] is None else int(row['wait_time'])}"
        for row in snapshots
    )


def decode(text: str | None) -> tuple[dict[int, State], dict[int, int | None]]:
    """States and waits by ride id."""
    states: dict[int, State] = {}
    waits: dict[int, int | None] = {}
    for ride, state, wait in map(_token, text.split(",") if text else ()):
        states[ride] = state
        waits[ride] = wait
    return states, waits


@lru_cache(maxsize=1 << 16)
def _token(token: str) -> tuple[int, State, int | None]:
    """One ride's reading. A day repeats the same few hundred readings of a park: parsed
    once each, a recompute decodes twice as fast."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise ValueError(f"not a ride state: {token!r}")
    ride, letter, wait = found.groups()
    return int(ride), _STATES[letter], int(wait) if wait else None
