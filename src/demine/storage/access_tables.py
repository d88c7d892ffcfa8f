"""Accounts, tokens, sign-in failures and need-to-know grants (re-exported by tables.py)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from demine.storage import entity_tables  # noqa: F401  (registered first; keys refer to it)
from demine.storage.metadata import _check_in, _id, _org, metadata
from demine.storage.types import Timestamp

users = Table(
    "users",
    metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200)),
    _org(),
    Column("role", String(16), nullable=False),
    Column("grants", Text, nullable=False, server_default=""),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", Timestamp, nullable=False),
    _check_in("role", ["admin", "authority", "operator", "reporter", "inspector", "viewer"]),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(16), nullable=False),  # api (long-lived) | access | session
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False, server_default="read"),
    Column("csrf_hash", String(64)),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),
    Column("revoked_at", Timestamp),
    _check_in("kind", ["api", "access", "session"]),
)

login_failures = Table(
    "login_failures",
    metadata,
    _id(),
    Column("key", String(300), nullable=False),
    Column("at", Timestamp, nullable=False),
    Index("ix_login_failures_key_at", "key", "at"),
)

sharing_agreements = Table(
    "sharing_agreements",
    metadata,
    _id(),
    Column("owner_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("partner_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("owner_id", "partner_id"),
)

record_grants = Table(
    "record_grants",
    metadata,
    _id(),
    Column("table_name", String(40), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),
    Column("user_id", Integer, ForeignKey("users.id")),
    Index("ix_record_grants_record", "table_name", "record_id"),
    # The permission predicate asks "is this organisation / user named on the record?":
    # these keep that lookup to the grants of one organisation or user.
    Index("ix_record_grants_organisation", "table_name", "organisation_id", "record_id"),
    Index("ix_record_grants_user", "table_name", "user_id", "record_id"),
    # Whether any record names a user at all (``permissions.named_on_records``).
    Index("ix_record_grants_named", "user_id"),
    CheckConstraint("(organisation_id IS NULL) != (user_id IS NULL)", name="one_grantee"),
)

# The highest id each table ever deleted (migration 0008 keeps it by triggers): new records
# get ids above it, so no grant, audit entry or history row can come to name another record.
id_high_water = Table(
    "id_high_water",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("last_id", Integer, nullable=False),
)

# Organisations the authority tasked on a hazard: besides its owner (and the authority), only
# they record activities and finds on it.
taskings = Table(
    "taskings",
    metadata,
    _id(),
    Column("hazard_id", Integer, ForeignKey("hazards.id"), nullable=False),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False,
           index=True),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("hazard_id", "organisation_id"),
)

# Changes an operator proposed to an approved record (an edit or a deletion): the approved
# version stays the official one, in every figure, tile and public view, until the authority
# approves the change (then applied) or rejects it (then dropped). One per record.
pending_changes = Table(
    "pending_changes",
    metadata,
    _id(),
    Column("table_name", String(40), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("action", String(8), nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("changes", Text, nullable=False, server_default="{}"),
    Column("organisation_id", Integer, ForeignKey("organisations.id")),
    Column("proposed_by", String(200), nullable=False),
    Column("proposed_at", Timestamp, nullable=False),
    UniqueConstraint("table_name", "record_id"),
    _check_in("action", ["update", "delete"]),
)
