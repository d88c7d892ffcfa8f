"""the entries about one record are found by an index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 03:20:00

A record's page in the web UI lists the audit entries about it; without an index on
(table_name, record_id) each page view read the whole chain, which grows with every write.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_audit_log_record", "audit_log", ["table_name", "record_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_audit_log_record", table_name="audit_log")
