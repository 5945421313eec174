"""Park catalogue sync: read a `parks.json`, upsert the parks in scope, in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from themepark_tracker.catalogue import CataloguePlan, Scope, plan_sync
from themepark_tracker.sources.queue_times import (
    CatalogueProblem,
    SourceError,
    parse_parks_catalogue,
)
from themepark_tracker.storage import queries, writes
from themepark_tracker.storage.db import writing

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    source: str
    scope: Scope
    plan: CataloguePlan
    problems: list[CatalogueProblem] = field(default_factory=list)
    out_of_scope: int = 0

    def summary(self) -> str:
        plan = self.plan
        return (
            f"{len(plan.seen)} parks in scope ({self.scope}) from {self.source}: "
            f"{len(plan.added)} added, {len(plan.updated)} updated, "
            f"{len(plan.reactivated)} reactivated, {len(plan.unchanged)} unchanged, "
            f"{len(plan.deactivated)} deactivated, {len(self.problems)} skipped"
        )


def sync_parks(
    engine: Engine, document: Any, *, source: str, scope: Scope, now: datetime
) -> SyncReport:
    """Sync the catalogue; parks that cannot be read are reported and left as they are.

    A catalogue older than the one stored (an archive imported after newer data) only
    adds the parks we never saw, inactive: it must not undo what a newer one says.
    Raises SourceError, writing nothing, when the document is unusable as a whole or has
    no park in scope (which would otherwise deactivate every park we track).
    """
    parks, problems = parse_parks_catalogue(document)
    in_scope = [park for park in parks if scope.includes(park.continent, park.country)]
    relevant = [p for p in problems if scope.includes(p.continent, p.country)]
    if not in_scope and not relevant:
        raise SourceError(f"{source}: no park in scope ({scope}); nothing changed")
    with writing(engine) as conn:
        plan = plan_sync(
            queries.stored_parks(conn),
            in_scope,
            protected=[p.park_id for p in relevant if p.park_id is not None],
        )
        newest = queries.catalogue_synced_at(conn)
        if newest is not None and now < newest:
            plan = CataloguePlan(added=plan.added)
            writes.save_catalogue(conn, plan, now, active=False)
        else:
            writes.save_catalogue(conn, plan, now)
    report = SyncReport(source, scope, plan, relevant, len(parks) - len(in_scope))
    for problem in relevant:
        log.warning("park skipped", extra={"source": source, "problem": str(problem)})
    log.info(
        "park catalogue synced",
        extra={
            "source": source,
            "scope": str(scope),
            "added": len(plan.added),
            "updated": len(plan.updated),
            "reactivated": len(plan.reactivated),
            "unchanged": len(plan.unchanged),
            "deactivated": len(plan.deactivated),
            "skipped": len(relevant),
            "out_of_scope": report.out_of_scope,
        },
    )
    return report
