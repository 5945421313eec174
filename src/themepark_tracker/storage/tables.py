"""Table definitions: MetaData, Core tables and named indexes, nothing else.

Parks and rides are keyed by their Queue-Times ids, which are stable and are what links
to queue-times.com. Every table that a job writes has a natural unique key, so a
repeated poll, a retried transaction or a re-imported archive never duplicates rows.
Times are UTC (`UTCDateTime`); dates (`park_date`, `stat_date`) are the park's local day
as docs/methodology.md defines it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.mysql import LONGBLOB

from themepark_tracker.storage.maxima import PEAK_LEVELS
from themepark_tracker.storage.types import BigId, UTCDateTime, UTCSeconds

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Applied to every table so that MySQL never falls back to latin1 or MyISAM.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

#: For the tables that grow for ever (a year of 100 parks x 50 rides: about half the room).
MYSQL_COMPRESSED: dict[str, Any] = {"mysql_row_format": "COMPRESSED", "mysql_key_block_size": "8"}

POLL_OUTCOMES = ("ok", "http_error", "timeout", "connection_error", "invalid_payload")

parks = Table(
    "parks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="Queue-Times park id"),
    Column("name", String(200), nullable=False),
    Column("operator", String(200), nullable=False, comment="Queue-Times company group name"),
    Column("operator_id", Integer, nullable=False, comment="Queue-Times company group id"),
    Column("country", String(100), nullable=False),
    Column("continent", String(100), nullable=False),
    Column("latitude", Double, nullable=False),
    Column("longitude", Double, nullable=False),
    Column("timezone", String(64), nullable=False, comment="IANA zone name"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("open_now", Boolean, nullable=True, comment="latest poll active (live status)"),
    Column("live_at", UTCDateTime, nullable=True, comment="time of the poll live status is from"),
    Column(
        "data_version",
        Integer,
        nullable=False,
        server_default="0",
        comment="bumped when the park's statistics or its rides' tiers change",
    ),
    Index("ix_parks_is_active", "is_active"),
    Index("ix_parks_continent_country", "continent", "country"),
    **MYSQL_TABLE_OPTIONS,
)

rides = Table(
    "rides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="Queue-Times ride id"),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("land_id", Integer, nullable=True, comment="null when listed under top-level rides"),
    Column("land_name", String(255), nullable=True),
    Column("tier", SmallInteger, nullable=True, comment="1, 2, 3; null = unclassified"),
    Column("tier_source", String(20), nullable=True, comment="how the tier was decided"),
    Column("tier_confidence", Double, nullable=True, comment="0 to 1"),
    Column("category", String(20), nullable=True, comment="ride, show, meet_greet, parade, other"),
    Column("current_state", String(8), nullable=True, comment="last open or closed seen"),
    Column("state_since", UTCDateTime, nullable=True, comment="poll time it became so"),
    # SQLite declares 8 characters (migration 0019 says why) and, as it never limits a
    # VARCHAR, holds `refurbishment` all the same.
    Column(
        "live_status",
        String(16).with_variant(String(8), "sqlite"),
        nullable=True,
        comment="running, down, closed, refurbishment, unknown",
    ),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("tier IS NULL OR tier IN (1, 2, 3)", name="tier_range"),
    Index("ix_rides_park_id_is_active", "park_id", "is_active"),
    # Rides down now are few: a park ranking counts them without reading every ride.
    Index("ix_rides_live_status", "live_status"),
    **MYSQL_TABLE_OPTIONS,
)

polls = Table(
    "polls",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("polled_at", UTCDateTime, nullable=False, comment="when the feed was fetched"),
    Column("cycle_id", String(36), nullable=False, comment="collection cycle or import run"),
    Column("source", String(10), nullable=False, comment="collect or import"),
    Column("outcome", String(20), nullable=False),
    Column("http_status", SmallInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    Column("rides_total", Integer, nullable=False, server_default="0"),
    Column("rides_open", Integer, nullable=False, server_default="0"),
    Column("rides_closed", Integer, nullable=False, server_default="0"),
    Column("rides_unknown", Integer, nullable=False, server_default="0"),
    Column("is_active", Boolean, nullable=False, server_default=false()),
    Column("ride_states", Text, nullable=True, comment="every ride's state and wait, compact"),
    CheckConstraint(
        "outcome IN ('ok', 'http_error', 'timeout', 'connection_error', 'invalid_payload')",
        name="outcome_values",
    ),
    UniqueConstraint("park_id", "polled_at", name="uq_polls_park_id_polled_at"),
    Index("ix_polls_polled_at", "polled_at"),
    Index("ix_polls_cycle_id", "cycle_id"),
    **MYSQL_TABLE_OPTIONS,
)

ride_snapshots = Table(
    "ride_snapshots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("poll_id", BigId, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
    Column("ride_id", Integer, ForeignKey("rides.id"), nullable=False),
    Column("polled_at", UTCDateTime, nullable=False, comment="copy of polls.polled_at"),
    Column("is_open_raw", Boolean, nullable=True),
    Column("wait_time_raw", String(32), nullable=True, comment="the feed's value, as sent"),
    Column("wait_time", SmallInteger, nullable=True, comment="validated minutes, else null"),
    Column("last_updated", UTCDateTime, nullable=True),
    Column(
        "state", String(8), nullable=False, comment="open, closed, unknown (docs/methodology.md)"
    ),
    CheckConstraint("state IN ('open', 'closed', 'unknown')", name="state_values"),
    UniqueConstraint("poll_id", "ride_id", name="uq_ride_snapshots_poll_id_ride_id"),
    Index("ix_ride_snapshots_ride_id_polled_at", "ride_id", "polled_at"),
    **MYSQL_TABLE_OPTIONS,
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("ride_id", Integer, ForeignKey("rides.id"), primary_key=True),
    Column("changed_at", UTCSeconds, primary_key=True),
    # No foreign key: InnoDB would keep an index on it beside every row; the ride's is
    # enough (a change belongs to its ride, the ride to its park).
    Column("park_id", Integer, nullable=False),
    Column("to_state", String(8), nullable=False, comment="open or closed; it was the other"),
    Column("previous_duration_seconds", Integer, nullable=True, comment="null when unknown"),
    CheckConstraint("to_state IN ('open', 'closed')", name="state_values"),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
    **MYSQL_COMPRESSED,
)

#: A ride's outages (docs/methodology.md), kept for good like its status changes:
#: written with its park day's statistics and replaced whole when the day is
#: recomputed. Found by ride and time; a day's by its date within a few days of it.
ride_outages = Table(
    "ride_outages",
    metadata,
    Column("ride_id", Integer, ForeignKey("rides.id"), primary_key=True),
    Column("started_at", UTCSeconds, primary_key=True, comment="its first closed poll"),
    Column("park_date", Date, nullable=False, comment="the park's local day"),
    Column("ended_at", UTCSeconds, nullable=True, comment="the next open poll; null: ongoing"),
    Column("minutes", Double, nullable=False, comment="the time its closed polls cover"),
    Column("park_wide", Boolean, nullable=False),
    Column(
        "censored",
        Boolean,
        nullable=False,
        server_default=false(),
        comment="reported DOWN to the session's end",
    ),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
    **MYSQL_COMPRESSED,
)

#: Which ThemeParks.wiki park each park is (`wiki_mapping`): the shipped table under the
#: overrides, as `sources map` last stored it.
wiki_parks = Table(
    "wiki_parks",
    metadata,
    Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
    Column("wiki_id", String(64), nullable=False),
    Column("wiki_name", String(255), nullable=False),
    Column("how", String(10), nullable=False, comment="table or override"),
    Column("mapped_at", UTCDateTime, nullable=False),
    # Its newest schedule answer, even one that published nothing: the rows of
    # `wiki_schedules` cannot say a park was asked and had no day to publish.
    Column("schedule_fetched_at", UTCSeconds, nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

#: Which ThemeParks.wiki entity each ride is; rides without one have no row. Several
#: rides may be one entity (a single-rider queue is its ride's).
wiki_rides = Table(
    "wiki_rides",
    metadata,
    Column("ride_id", Integer, ForeignKey("rides.id"), primary_key=True),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("wiki_id", String(64), nullable=False),
    Column("wiki_name", String(255), nullable=False),
    Column("how", String(10), nullable=False, comment="name or override"),
    Column("mapped_at", UTCDateTime, nullable=False),
    Index("ix_wiki_rides_park_id", "park_id"),
    **MYSQL_TABLE_OPTIONS,
)

#: Each ThemeParks.wiki live answer of a park, as the statuses of the rides paired
#: when it was fetched (`{ride id}{O|D|C|R}`, comma-separated): the statuses of the
#: park's polls come from the answer fetched within one interval of each. Raw like the
#: polls: `cleanup` deletes a day's with them.
wiki_live = Table(
    "wiki_live",
    metadata,
    Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
    Column("fetched_at", UTCSeconds, primary_key=True),
    Column("statuses", Text, nullable=False),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
)

#: A park's published hours per park day, as last fetched before the day ended.
wiki_schedules = Table(
    "wiki_schedules",
    metadata,
    Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
    Column("park_date", Date, primary_key=True, comment="the park's local day"),
    Column("kind", String(16), primary_key=True, comment="OPERATING, TICKETED_EVENT, ..."),
    Column("opens_at", UTCSeconds, primary_key=True),
    Column("closes_at", UTCSeconds, nullable=False),
    Column("description", String(255), nullable=True),
    Column("fetched_at", UTCSeconds, nullable=False),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
)

#: Recovery pools prepared by `aggregate` (a pool of every park's rides of a tier holds
#: thousands of outages; a list of rides down now asks a hundred rides' own): each
#: pool's Kaplan–Meier curve over its park days `first_day` to `last_day`, packed
#: (`storage.pools`). A cache with exact invalidation: a park day written inside a
#: window deletes the pools it belongs to, found by the key's first column.
recovery_pools = Table(
    "recovery_pools",
    metadata,
    Column("park_id", Integer, primary_key=True, comment="0: every park"),
    Column("pool", String(9), primary_key=True, comment="ride, park_wide, park_tier or tier"),
    Column("tier", Integer, primary_key=True, comment="0: a ride's own, or park-wide outages"),
    Column("ride_id", Integer, primary_key=True, comment="0: not a ride's own"),
    Column("first_day", Date, primary_key=True),
    Column("last_day", Date, primary_key=True),
    Column("ended", Integer, nullable=False),
    Column("censored", Integer, nullable=False),
    Column(
        "curve",
        LargeBinary().with_variant(LONGBLOB(), "mysql"),
        nullable=False,
        comment="times, levels (float64) and outages longer (int32), little-endian",
    ),
    Column("prepared_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
)

operating_sessions = Table(
    "operating_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("park_date", Date, nullable=False, comment="the park's local day"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Column("operating_minutes", Double, nullable=False),
    Column("polls", Integer, nullable=False),
    Column("active_polls", Integer, nullable=False),
    Column("is_final", Boolean, nullable=False, server_default=false()),
    Column("computed_at", UTCDateTime, nullable=False),
    # The session is the published hours when `scheduled`; the run of active polls it
    # would have been without them is kept beside it (scheduled against observed hours).
    Column("scheduled", Boolean, nullable=False, server_default=false()),
    Column("observed_started_at", UTCDateTime, nullable=True),
    Column("observed_ended_at", UTCDateTime, nullable=True),
    UniqueConstraint("park_id", "park_date", name="uq_operating_sessions_park_id_park_date"),
    Index("ix_operating_sessions_park_date", "park_date"),
    **MYSQL_TABLE_OPTIONS,
)

#: Running totals (`cum_*`) of a ride up to and including each of its park's days. The
#: table is dense: every counted ride of a park has a row on every day the park has
#: statistics (`tracked` false and zero minutes when it never opened), so any period's sums
#: are two rows per ride, the last day's running total minus the one before the period.
RUNNING_TOTALS = (
    ("uptime_minutes", Double),
    ("downtime_minutes", Double),
    ("weighted_downtime_minutes", Double),
    ("weighted_total_minutes", Double),
    ("wait_sum", Double),
    ("wait_samples", Integer),
    ("downtime_events", Integer),
    ("tracked_days", Integer),
)
SUMS = tuple(name for name, _ in RUNNING_TOTALS)
#: A park's running totals, of the same sums over its rides: its period sums are two
#: rows per park too.
PARK_RUNNING_TOTALS = (*RUNNING_TOTALS[:6], ("scheduled_days", Integer))
"""The first six of the rides' sums, and the park's days counted with published hours."""
PARK_SUMS = tuple(name for name, _ in PARK_RUNNING_TOTALS)

ride_daily_stats = Table(
    "ride_daily_stats",
    metadata,
    Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
    Column("stat_date", Date, primary_key=True, comment="the park's local day"),
    Column("ride_id", Integer, ForeignKey("rides.id"), primary_key=True),
    Column("tier", SmallInteger, nullable=True, comment="tier used for this day's weights"),
    Column("tracked", Boolean, nullable=False, comment="eligible: open in the session"),
    Column("uptime_minutes", Double, nullable=False),
    Column("downtime_minutes", Double, nullable=False),
    Column("downtime_events", Integer, nullable=False),
    Column("longest_downtime_minutes", Double, nullable=False),
    Column("avg_wait", Double, nullable=True),
    Column("peak_wait", SmallInteger, nullable=True),
    Column("wait_samples", Integer, nullable=False),
    Column("window_start", UTCSeconds, nullable=True, comment="first open poll in session"),
    Column("window_end", UTCSeconds, nullable=True, comment="last open poll in session"),
    Column("is_final", Boolean, nullable=False),
    *(Column(f"cum_{name}", kind, nullable=False) for name, kind in RUNNING_TOTALS),
    # Days back to the ride's latest day tracked, and with downtime, up to this one: 0
    # on such a day (SQLite stores 0 and 1 in no room at all), null before the first.
    Column("days_since_tracked", SmallInteger, nullable=True),
    Column("days_since_down", SmallInteger, nullable=True),
    # Highest posted waits of the spans of park days ending with this one (maxima.py).
    *(Column(name, SmallInteger, nullable=True) for name in PEAK_LEVELS),
    # Only on a day whose session runs: the length so far of the ride's ongoing outage,
    # counted in its downtime and events but not among the outages a period has ended.
    Column("ongoing_outage_minutes", Double, nullable=True),
    Column(
        "disagreements",
        SmallInteger,
        nullable=False,
        server_default="0",
        comment="polls of the session where the sources disagreed",
    ),
    # A ride's days, for its history and the maxima of the rides a ranking returns: the
    # index holds what those reads want, so that they never fetch a row (on MySQL a
    # compressed page) per day. On SQLite only the tracked days: a query that does not
    # say `tracked` then cannot take this index where the key is better.
    Index(
        "ix_ride_daily_stats_ride_id_stat_date_maxima",
        "ride_id",
        "stat_date",
        "tracked",
        "peak_wait",
        "longest_downtime_minutes",
        sqlite_where=text("tracked = 1"),
    ),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
    **MYSQL_COMPRESSED,
)

park_daily_stats = Table(
    "park_daily_stats",
    metadata,
    Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
    Column("stat_date", Date, primary_key=True, comment="the park's local day"),
    Column("operating_minutes", Double, nullable=False),
    Column("rides_tracked", Integer, nullable=False),
    Column("rides_with_downtime", Integer, nullable=False),
    Column("uptime_minutes", Double, nullable=False),
    Column("downtime_minutes", Double, nullable=False),
    Column("weighted_downtime_minutes", Double, nullable=False, comment="sum of weight x down"),
    Column("weighted_total_minutes", Double, nullable=False, comment="sum of weight x (up+down)"),
    Column("avg_wait", Double, nullable=True),
    Column("peak_wait", SmallInteger, nullable=True),
    Column("wait_samples", Integer, nullable=False, server_default="0"),
    Column("is_final", Boolean, nullable=False, server_default=false()),
    Column("computed_at", UTCDateTime, nullable=False),
    Column(
        "scheduled",
        Boolean,
        nullable=False,
        server_default=false(),
        comment="counted with the published hours",
    ),
    *(
        Column(f"cum_{name}", kind, nullable=False, server_default="0")
        for name, kind in PARK_RUNNING_TOTALS
    ),
    Column(
        "day_number",
        Integer,
        nullable=False,
        server_default="0",
        comment="the park's days with statistics up to this one",
    ),
    *(Column(name, SmallInteger, nullable=True) for name in PEAK_LEVELS),
    # The day's ended outages of its counted rides, for a park's outage figures over a
    # period without reading its rides' outages (storage.outages.park_outage_lengths).
    Column(
        "outage_seconds",
        LargeBinary,
        nullable=True,
        comment="int32 little-endian seconds, negative: park-wide",
    ),
    # Every 8th park day: the outage lengths of all its days so far, in 10-minute
    # buckets, for periods too long to read each day's (storage.outages.buckets_through).
    Column("cum_outages", LargeBinary, nullable=True, comment="int64 little-endian buckets"),
    # Not unique: a day written between two others renumbers the later ones one by one.
    Index("ix_park_daily_stats_park_id_day_number", "park_id", "day_number"),
    sqlite_with_rowid=False,
    **MYSQL_TABLE_OPTIONS,
)

aggregation_log = Table(
    "aggregation_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("park_date", Date, nullable=False),
    Column("job", String(20), nullable=False, comment="aggregate or cleanup"),
    Column("status", String(10), nullable=False, comment="success or failure"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("rows_written", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    CheckConstraint("status IN ('success', 'failure')", name="status_values"),
    Index("ix_aggregation_log_park_id_park_date", "park_id", "park_date"),
    Index("ix_aggregation_log_started_at", "started_at"),
    **MYSQL_TABLE_OPTIONS,
)


def _park_day_marks(name: str, column: str, comment: str) -> Table:
    """A set of park days, each with when it entered the set."""
    return Table(
        name,
        metadata,
        Column("park_id", Integer, ForeignKey("parks.id"), primary_key=True),
        Column("park_date", Date, primary_key=True, comment="the park's local day"),
        Column(column, UTCDateTime, nullable=False, comment=comment),
        sqlite_with_rowid=False,
        **MYSQL_TABLE_OPTIONS,
    )


#: Park days with polls stored since their statistics were last computed: written with
#: the polls, deleted with the recomputed figures, so a killed job leaves its work named.
stale_park_days = _park_day_marks("stale_park_days", "marked_at", "when a poll of it was stored")
#: Park days whose polls `cleanup` deleted: their statistics are never computed again
#: (a late poll would be all the day had left).
closed_park_days = _park_day_marks(
    "closed_park_days", "closed_at", "when cleanup deleted its polls"
)

data_quality_issues = Table(
    "data_quality_issues",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    # 0 for a park-level issue: a NULL would defeat the unique key on both dialects.
    Column("ride_id", Integer, nullable=False, server_default="0"),
    Column("observed_at", UTCDateTime, nullable=False, comment="the poll's time"),
    Column("issue_type", String(40), nullable=False),
    Column("raw_value", String(255), nullable=True),
    Column("detail", Text, nullable=True),
    UniqueConstraint(
        "park_id",
        "ride_id",
        "observed_at",
        "issue_type",
        name="uq_data_quality_issues_subject",
    ),
    Index("ix_data_quality_issues_observed_at", "observed_at"),
    **MYSQL_TABLE_OPTIONS,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("key_prefix", String(12), nullable=False, comment="shown to identify a key"),
    Column("key_hash", String(64), nullable=False, comment="SHA-256 hex; the key is never stored"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    **MYSQL_TABLE_OPTIONS,
)

#: What subscribers are told (`engine.events`), in the order it was recorded (`seq`).
#: A row is never changed: a late poll that changes an event adds a row that names it
#: (`corrects`), and an announced outage that dropped out adds its retraction.
events = Table(
    "events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("park_id", Integer, ForeignKey("parks.id"), nullable=False),
    Column("ride_id", Integer, nullable=True),
    Column("park_date", Date, nullable=False, comment="the park's local day"),
    Column("occurred_at", UTCSeconds, nullable=False),
    Column("confirmed_at", UTCSeconds, nullable=False),
    Column("data", Text, nullable=False, comment="JSON"),
    Column("corrects", String(32), nullable=True, comment="the event it changes"),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("id", name="uq_events_id"),
    Index("ix_events_park_id_seq", "park_id", "seq"),
    Index("ix_events_ride_id_seq", "ride_id", "seq"),
    Index("ix_events_park_id_park_date", "park_id", "park_date"),
    **MYSQL_TABLE_OPTIONS,
)
