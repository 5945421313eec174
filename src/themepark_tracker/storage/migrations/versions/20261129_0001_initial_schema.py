"""Initial schema: every table of the system.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 02:51:17.017763
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import themepark_tracker.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "key_prefix", sa.String(length=12), nullable=False, comment="shown to identify a key"
        ),
        sa.Column(
            "key_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 hex; the key is never stored",
        ),
        sa.Column("created_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", themepark_tracker.storage.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", themepark_tracker.storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "parks",
        sa.Column(
            "id", sa.Integer(), autoincrement=False, nullable=False, comment="Queue-Times park id"
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "operator",
            sa.String(length=200),
            nullable=False,
            comment="Queue-Times company group name",
        ),
        sa.Column(
            "operator_id", sa.Integer(), nullable=False, comment="Queue-Times company group id"
        ),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("continent", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False, comment="IANA zone name"),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("1"), nullable=False),
        sa.Column("first_seen_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parks")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.create_index("ix_parks_continent_country", ["continent", "country"], unique=False)
        batch_op.create_index("ix_parks_is_active", ["is_active"], unique=False)

    op.create_table(
        "aggregation_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("park_date", sa.Date(), nullable=False),
        sa.Column("job", sa.String(length=20), nullable=False, comment="aggregate or cleanup"),
        sa.Column("status", sa.String(length=10), nullable=False, comment="success or failure"),
        sa.Column("started_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", themepark_tracker.storage.types.UTCDateTime(), nullable=True),
        sa.Column("rows_written", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('success', 'failure')", name=op.f("ck_aggregation_log_status_values")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_aggregation_log_park_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregation_log")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("aggregation_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_aggregation_log_park_id_park_date", ["park_id", "park_date"], unique=False
        )
        batch_op.create_index("ix_aggregation_log_started_at", ["started_at"], unique=False)

    op.create_table(
        "data_quality_issues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("ride_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "observed_at",
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=False,
            comment="the poll's time",
        ),
        sa.Column("issue_type", sa.String(length=40), nullable=False),
        sa.Column("raw_value", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_data_quality_issues_park_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_quality_issues")),
        sa.UniqueConstraint(
            "park_id", "ride_id", "observed_at", "issue_type", name="uq_data_quality_issues_subject"
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("data_quality_issues", schema=None) as batch_op:
        batch_op.create_index("ix_data_quality_issues_observed_at", ["observed_at"], unique=False)

    op.create_table(
        "operating_sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("park_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("started_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("operating_minutes", sa.Double(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("active_polls", sa.Integer(), nullable=False),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("computed_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_operating_sessions_park_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operating_sessions")),
        sa.UniqueConstraint("park_id", "park_date", name="uq_operating_sessions_park_id_park_date"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("operating_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_operating_sessions_park_date", ["park_date"], unique=False)

    op.create_table(
        "park_daily_stats",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column("operating_minutes", sa.Double(), nullable=False),
        sa.Column("rides_tracked", sa.Integer(), nullable=False),
        sa.Column("rides_with_downtime", sa.Integer(), nullable=False),
        sa.Column("uptime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_minutes", sa.Double(), nullable=False),
        sa.Column(
            "weighted_downtime_minutes", sa.Double(), nullable=False, comment="sum of weight x down"
        ),
        sa.Column(
            "weighted_total_minutes",
            sa.Double(),
            nullable=False,
            comment="sum of weight x (up+down)",
        ),
        sa.Column("avg_wait", sa.Double(), nullable=True),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column("wait_samples", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("computed_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_park_daily_stats_park_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_park_daily_stats")),
        sa.UniqueConstraint("park_id", "stat_date", name="uq_park_daily_stats_park_id_stat_date"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("park_daily_stats", schema=None) as batch_op:
        batch_op.create_index("ix_park_daily_stats_stat_date", ["stat_date"], unique=False)

    op.create_table(
        "polls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column(
            "polled_at",
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=False,
            comment="when the feed was fetched",
        ),
        sa.Column(
            "cycle_id",
            sa.String(length=36),
            nullable=False,
            comment="collection cycle or import run",
        ),
        sa.Column("source", sa.String(length=10), nullable=False, comment="collect or import"),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("rides_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rides_open", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rides_closed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rides_unknown", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('ok', 'http_error', 'timeout', 'connection_error', 'invalid_payload')",
            name=op.f("ck_polls_outcome_values"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_polls_park_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("park_id", "polled_at", name="uq_polls_park_id_polled_at"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index("ix_polls_cycle_id", ["cycle_id"], unique=False)
        batch_op.create_index("ix_polls_polled_at", ["polled_at"], unique=False)

    op.create_table(
        "rides",
        sa.Column(
            "id", sa.Integer(), autoincrement=False, nullable=False, comment="Queue-Times ride id"
        ),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "land_id", sa.Integer(), nullable=True, comment="null when listed under top-level rides"
        ),
        sa.Column("land_name", sa.String(length=255), nullable=True),
        sa.Column("tier", sa.SmallInteger(), nullable=True, comment="1, 2, 3; null = unclassified"),
        sa.Column(
            "tier_source", sa.String(length=20), nullable=True, comment="how the tier was decided"
        ),
        sa.Column(
            "category",
            sa.String(length=20),
            nullable=True,
            comment="ride, show, meet_greet, parade, other",
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("1"), nullable=False),
        sa.Column("first_seen_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("tier IS NULL OR tier IN (1, 2, 3)", name=op.f("ck_rides_tier_range")),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_rides_park_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rides")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("rides", schema=None) as batch_op:
        batch_op.create_index("ix_rides_park_id_is_active", ["park_id", "is_active"], unique=False)

    op.create_table(
        "ride_daily_stats",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("stat_date", sa.Date(), nullable=False, comment="the park's local day"),
        sa.Column(
            "tier", sa.SmallInteger(), nullable=True, comment="tier used for this day's weights"
        ),
        sa.Column("uptime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_minutes", sa.Double(), nullable=False),
        sa.Column("downtime_events", sa.Integer(), nullable=False),
        sa.Column("longest_downtime_minutes", sa.Double(), nullable=False),
        sa.Column("avg_wait", sa.Double(), nullable=True),
        sa.Column("peak_wait", sa.SmallInteger(), nullable=True),
        sa.Column("wait_samples", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "window_start",
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=True,
            comment="first open poll in session",
        ),
        sa.Column(
            "window_end",
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=True,
            comment="last open poll in session",
        ),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("computed_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_ride_daily_stats_park_id")
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"], ["rides.id"], name=op.f("fk_ride_daily_stats_ride_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ride_daily_stats")),
        sa.UniqueConstraint("ride_id", "stat_date", name="uq_ride_daily_stats_ride_id_stat_date"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("ride_daily_stats", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ride_daily_stats_park_id_stat_date", ["park_id", "stat_date"], unique=False
        )
        batch_op.create_index("ix_ride_daily_stats_stat_date", ["stat_date"], unique=False)

    op.create_table(
        "ride_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column(
            "polled_at",
            themepark_tracker.storage.types.UTCDateTime(),
            nullable=False,
            comment="copy of polls.polled_at",
        ),
        sa.Column("is_open_raw", sa.Boolean(), nullable=True),
        sa.Column(
            "wait_time_raw",
            sa.String(length=32),
            nullable=True,
            comment="the feed's value, as sent",
        ),
        sa.Column(
            "wait_time", sa.SmallInteger(), nullable=True, comment="validated minutes, else null"
        ),
        sa.Column("last_updated", themepark_tracker.storage.types.UTCDateTime(), nullable=True),
        sa.Column(
            "state",
            sa.String(length=8),
            nullable=False,
            comment="open, closed, unknown (docs/methodology.md)",
        ),
        sa.CheckConstraint(
            "state IN ('open', 'closed', 'unknown')", name=op.f("ck_ride_snapshots_state_values")
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_ride_snapshots_poll_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_ride_snapshots_ride_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ride_snapshots")),
        sa.UniqueConstraint("poll_id", "ride_id", name="uq_ride_snapshots_poll_id_ride_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("ride_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ride_snapshots_ride_id_polled_at", ["ride_id", "polled_at"], unique=False
        )

    op.create_table(
        "status_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ride_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", themepark_tracker.storage.types.UTCDateTime(), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=False),
        sa.Column("to_state", sa.String(length=8), nullable=False),
        sa.Column(
            "previous_duration_minutes", sa.Double(), nullable=True, comment="null when unknown"
        ),
        sa.CheckConstraint(
            "from_state IN ('open', 'closed', 'unknown') "
            "AND to_state IN ('open', 'closed', 'unknown')",
            name=op.f("ck_status_changes_state_values"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], name=op.f("fk_status_changes_park_id")),
        sa.ForeignKeyConstraint(["ride_id"], ["rides.id"], name=op.f("fk_status_changes_ride_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
        sa.UniqueConstraint("ride_id", "changed_at", name="uq_status_changes_ride_id_changed_at"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_status_changes_park_id_changed_at", ["park_id", "changed_at"], unique=False
        )


def downgrade() -> None:
    # Indexes go with their tables; dropping them first fails on MySQL for FK columns.
    op.drop_table("status_changes")
    op.drop_table("ride_snapshots")
    op.drop_table("ride_daily_stats")
    op.drop_table("rides")
    op.drop_table("polls")
    op.drop_table("park_daily_stats")
    op.drop_table("operating_sessions")
    op.drop_table("data_quality_issues")
    op.drop_table("aggregation_log")
    op.drop_table("parks")
    op.drop_table("api_keys")
