"""changes proposed to approved records wait for the authority apart from them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:10:00

An operator's edit or deletion of an approved record used to replace it at once with a
submitted version: the approved figures changed (a hazard left the national statistics and
the public map) before anyone approved anything. Such a change is now kept in
``pending_changes`` until the authority approves (applied) or rejects (dropped) it.
"""

import sqlalchemy as sa
from alembic import op

import demine.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "pending_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Text(), server_default="{}", nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("proposed_at", demine.storage.types.Timestamp(), nullable=False),
        sa.CheckConstraint("action IN ('update', 'delete')",
                           name=op.f("ck_pending_changes_action_code")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_pending_changes_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_changes")),
        sa.UniqueConstraint("table_name", "record_id",
                            name=op.f("uq_pending_changes_table_name_record_id")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("pending_changes")
