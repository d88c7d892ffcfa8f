"""The one SQLAlchemy metadata every table registers on, and the column helpers they share."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, MetaData, String, Text, text

from demine.storage.types import Timestamp

__all__ = ["metadata", "SENSITIVE"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SENSITIVE = {"sensitive": True}


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _org(nullable: bool = False) -> Column:
    return Column(
        "organisation_id", Integer, ForeignKey("organisations.id"), nullable=nullable, index=True
    )


def _record_columns() -> list:
    """Columns every versioned, need-to-know record carries."""
    return [
        Column("sensitivity", String(16), nullable=False, server_default="shared"),
        Column("review_status", String(16), nullable=False, server_default="approved"),
        Column("review_note", Text),
        Column("version", Integer, nullable=False, server_default=text("1")),
        Column("recorded_at", Timestamp, nullable=False),
        Column("recorded_by", String(120), nullable=False, server_default="system"),
    ]


def _check_in(column: str, values) -> CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_code")
