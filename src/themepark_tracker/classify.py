"""Ride tiers and categories: manual overrides, then cached decisions, then keyword rules.

Tiers weigh downtime (docs/methodology.md: tier 1 = 3, tier 2 = 2, tier 3 = 1, unclassified = 2);
categories keep shows, meet-and-greets and parades out of every downtime figure. Pure
functions: `jobs` reads the files and the database around them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

CACHE_SCHEMA_VERSION = 1
CATEGORIES = ("ride", "show", "meet_greet", "parade", "other")
REVIEW_BELOW = 0.5


class ClassificationError(ValueError):
    """An overrides or cache file that cannot be used."""


@dataclass(frozen=True)
class Decision:
    tier: int | None
    category: str | None
    confidence: float
    source: str
    reason: str = ""


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    tier: int | None
    category: str
    confidence: float


def _rule(words: str, tier: int | None, category: str, confidence: float) -> _Rule:
    return _Rule(re.compile(rf"\b(?:{words})\b", re.IGNORECASE), tier, category, confidence)


#: First match wins; non-rides first, so "Coaster Show" is a show.
RULES = (
    _rule(r"meet|greet|character (?:spot|experience)", None, "meet_greet", 0.9),
    _rule(r"parade|cavalcade", None, "parade", 0.9),
    _rule(
        r"show|festival of|spectacular|theater|theatre|musical|revue|fireworks", None, "show", 0.75
    ),
    _rule(
        r"playground|play area|kiddie|junior|jr\.?|carousel|teacups?|tea cups|train|railroad"
        r"|bumper|swings?|spinners?|dumbo|flying elephants",
        3,
        "ride",
        0.6,
    ),
    _rule(
        r"coaster|mountain|drop tower|tower of terror|hyper|giga|launch|velocicoaster"
        r"|expedition|rapids|flume|splash",
        1,
        "ride",
        0.6,
    ),
    _rule(r"racers?|mission|odyssey|dark ride|adventure|voyage|flight|spin", 2, "ride", 0.4),
)


def classify_by_rules(name: str) -> Decision:
    """Keyword rules; an unmatched name stays unclassified (weight 2), confidence 0."""
    for rule in RULES:
        if rule.pattern.search(name):
            return Decision(
                rule.tier, rule.category, rule.confidence, "rules", rule.pattern.pattern
            )
    return Decision(None, None, 0.0, "unclassified")


def decide(
    park_id: int,
    ride_id: int,
    name: str,
    overrides: Mapping[tuple[int, int], Decision],
    cache: Mapping[str, Decision],
) -> Decision:
    """Overrides, then the cache of earlier decisions, then the keyword rules."""
    override = overrides.get((park_id, ride_id))
    if override is not None:
        return override
    cached = cache.get(cache_key(park_id, ride_id))
    if cached is not None:
        return cached
    return classify_by_rules(name)


@dataclass(frozen=True)
class Decisions:
    """The overrides and cached decisions of one job run: a ride the collector sees for
    the first time is decided as `classify` would decide it."""

    overrides: Mapping[tuple[int, int], Decision] = field(default_factory=dict)
    cache: Mapping[str, Decision] = field(default_factory=dict)

    def decide(self, park_id: int, ride_id: int, name: str) -> Decision:
        return decide(park_id, ride_id, name, self.overrides, self.cache)


def cache_key(park_id: int, ride_id: int) -> str:
    return f"{park_id}:{ride_id}"


def parse_overrides(text: str, source: str) -> dict[tuple[int, int], Decision]:
    """CSV `park_id,ride_id,tier,reason[,category]`; a bad row names its line. An empty
    file holds no overrides."""
    if not text.strip():
        return {}
    reader = csv.DictReader(io.StringIO(text))
    missing = {"park_id", "ride_id", "tier", "reason"} - set(reader.fieldnames or [])
    if missing:
        raise ClassificationError(f"{source}: missing columns {', '.join(sorted(missing))}")
    overrides: dict[tuple[int, int], Decision] = {}
    try:
        for row in reader:
            park_id, ride_id, decision = _override(row, f"{source}:{reader.line_num}")
            overrides[(park_id, ride_id)] = decision
    except csv.Error as exc:  # a quote left open, say
        raise ClassificationError(f"{source}:{reader.line_num}: {exc}") from None
    return overrides


def _override(row: dict[str | Any, Any], where: str) -> tuple[int, int, Decision]:
    try:
        park_id, ride_id = int(row["park_id"]), int(row["ride_id"])
        tier = int(row["tier"]) if (row["tier"] or "").strip() else None
    except (TypeError, ValueError):
        raise ClassificationError(f"{where}: park_id, ride_id and tier are numbers") from None
    if tier not in (None, 1, 2, 3):
        raise ClassificationError(f"{where}: tier must be 1, 2, 3 or empty, not {tier}")
    category = (row.get("category") or "").strip() or ("ride" if tier else None)
    if category is not None and category not in CATEGORIES:
        raise ClassificationError(f"{where}: unknown category {category!r}")
    return park_id, ride_id, Decision(tier, category, 1.0, "manual", (row["reason"] or "").strip())


def parse_cache(text: str, source: str) -> dict[str, Decision]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClassificationError(f"{source}: not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("schema_version") != CACHE_SCHEMA_VERSION:
        raise ClassificationError(
            f"{source}: expected schema_version {CACHE_SCHEMA_VERSION}; delete it to rebuild"
        )
    try:
        return {key: Decision(**value) for key, value in document["decisions"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ClassificationError(f"{source}: malformed decisions: {exc}") from None


def render_cache(decisions: Mapping[str, Decision]) -> str:
    document: dict[str, Any] = {
        "schema_version": CACHE_SCHEMA_VERSION,
        "decisions": {key: asdict(decisions[key]) for key in sorted(decisions)},
    }
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def review_csv(rows: list[tuple[int, int, str, Decision]]) -> str:
    """Low-confidence decisions as an overrides CSV, ready to edit and load."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["park_id", "ride_id", "tier", "reason", "category", "name", "confidence"])
    for park_id, ride_id, name, decision in rows:
        if decision.confidence < REVIEW_BELOW:
            writer.writerow(
                [
                    park_id,
                    ride_id,
                    decision.tier or "",
                    f"review: {decision.source}",
                    decision.category or "",
                    name,
                    f"{decision.confidence:.2f}",
                ]
            )
    return out.getvalue()
