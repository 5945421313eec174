"""`classify`: decide every ride's tier and category, and remember the decisions."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from themepark_tracker.classify import (
    ClassificationError,
    Decision,
    Decisions,
    cache_key,
    parse_cache,
    parse_overrides,
    render_cache,
)
from themepark_tracker.storage import queries, writes
from themepark_tracker.storage.db import writing


@dataclass
class ClassifyReport:
    rides: int = 0
    changed: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    decisions: list[tuple[int, int, str, Decision]] = field(default_factory=list)


def load_decisions(overrides_file: Path, cache_file: Path) -> Decisions:
    """The overrides and the cache as the files hold them; a missing file holds none.

    Raises `ClassificationError` (a bad file) or `OSError` (an unreadable one).
    """
    overrides = (
        parse_overrides(_text(overrides_file), str(overrides_file))
        if overrides_file.is_file()
        else {}
    )
    cache = parse_cache(_text(cache_file), str(cache_file)) if cache_file.is_file() else {}
    return Decisions(overrides, cache)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ClassificationError(f"{path}: not UTF-8 text ({exc.reason})") from None


def classify_rides(engine: Engine, overrides_file: Path, cache_file: Path) -> ClassifyReport:
    """Apply overrides, cached decisions and keyword rules to every ride; update the cache.

    Rule decisions go into the cache, so that improving the rules later does not quietly
    re-weigh the history of rides already classified; delete the cache to re-decide.
    """
    known = load_decisions(overrides_file, cache_file)
    cache = dict(known.cache)
    decisions = Decisions(known.overrides, cache)
    report = ClassifyReport()
    updates = []
    with writing(engine) as conn:
        for ride in queries.rides_to_classify(conn):
            decision = decisions.decide(ride.park_id, ride.id, ride.name)
            report.rides += 1
            report.sources[decision.source] += 1
            report.decisions.append((ride.park_id, ride.id, ride.name, decision))
            if decision.source == "rules":
                cache[cache_key(ride.park_id, ride.id)] = decision
            current = (ride.tier, ride.category, ride.tier_source, ride.tier_confidence)
            wanted = (decision.tier, decision.category, decision.source, decision.confidence)
            if current != wanted:
                updates.append((ride.id, decision))
        writes.save_classification(conn, updates)
    report.changed = len(updates)
    _write_atomically(cache_file, render_cache(cache))
    return report


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)
