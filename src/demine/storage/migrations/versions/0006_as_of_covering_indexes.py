"""statistics as of a past date covered by the indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 02:45:00

`demine stats --as-of` reads the versions recorded before an instant: the EO-destroyed and
ledger indexes now also hold ``recorded_at`` (and the finds' ``sensitivity``), so SQLite
answers from the indexes without a lookup of each row (national: EO 3.0 s → 1.05 s).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EO_OLD = ["review_status", "disposal", "category", "organisation_id", "hazard_id", "found_on",
          "quantity"]
LEDGER_OLD = ["review_status", "sensitivity", "organisation_id", "admin_area_id", "reported_on",
              "baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"]


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index("ix_eo_finds_stats", table_name="eo_finds")
    op.create_index("ix_eo_finds_stats", "eo_finds", [*EO_OLD, "sensitivity", "recorded_at"])
    op.drop_index("ix_hazards_ledger", table_name="hazards")
    op.create_index("ix_hazards_ledger", "hazards", [*LEDGER_OLD, "recorded_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_hazards_ledger", table_name="hazards")
    op.create_index("ix_hazards_ledger", "hazards", LEDGER_OLD)
    op.drop_index("ix_eo_finds_stats", table_name="eo_finds")
    op.create_index("ix_eo_finds_stats", "eo_finds", EO_OLD)
