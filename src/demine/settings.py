"""Settings: one typed object, read from DEMINE_* variables once at start and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def sqlite_url(path: str | Path) -> str:
    """The database URL of a GeoPackage file."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


class Settings(BaseSettings):
    """Everything demine can be configured with."""

    model_config = SettingsConfigDict(env_prefix="DEMINE_", extra="ignore")

    database_url: str = Field(default_factory=lambda: sqlite_url("demine.gpkg"))
    busy_timeout_ms: int = Field(default=15_000, ge=0)
    statement_timeout_ms: int = Field(default=120_000, ge=0, description="PostgreSQL only")
    max_vertices: int = Field(default=200_000, gt=3, description="per geometry, on import/write")
    max_import_bytes: int = Field(default=2_000_000_000, gt=0)
    future_date_tolerance_days: int = Field(
        default=1, ge=0, le=366, description="record dates (and as_of) may lie this many days "
                                             "ahead of today in UTC, for time zones")
    release_tolerance_m2: float = Field(default=1.0, ge=0)
    release_tolerance_ratio: float = Field(default=0.001, ge=0, lt=0.5)
    closure_tolerance_m2: float = Field(default=1.0, ge=0)
    extent_margin_deg: float = Field(default=0.5, ge=0)
    sliver_width_m: float = Field(
        default=0.5, gt=0, description="`demine check`: parts and strips narrower are slivers/gaps")
    max_request_bytes: int = Field(default=20_000_000, gt=0, description="API request bodies")
    ogc_require_if_match: bool = Field(
        default=False, description="OGC API writes without If-Match get 428 (QGIS sends none)")
    tile_cache_mb: int = Field(
        default=64, ge=0, description="per server process: vector tiles kept until a change "
                                      "touches them (0: off)")
    tile_cache_file_mb: int = Field(
        default=1024, ge=1, description="the tiles kept in DEMINE_TILE_CACHE_DIR (per store)")
    tile_reseed_max: int = Field(
        default=256, ge=0, description="tiles a change dropped from the cache, made again in "
                                       "the background, lowest zooms first (0: off)")
    tile_point_limit: int = Field(
        default=4096, ge=1, description="a tile of a point layer holding more features keeps "
                                        "one per pixel, with `represents` (how many)")
    count_cache_entries: int = Field(
        default=4096, ge=0, description="per server process: OGC API numberMatched counts kept "
                                        "until the store changes (0: off)")
    tile_cache_dir: Path | None = Field(
        default=None, description="a folder the server's workers share tiles in, kept across "
                                  "restarts (unset: `serve --workers N` makes a temporary one)")
    signin_pair_failures: int = Field(
        default=5, ge=1, description="failed sign-ins of one account from one address before "
                                     "that pair waits (exponential backoff)")
    signin_address_failures: int = Field(
        default=10, ge=1, description="failed sign-ins from one address (any accounts) before "
                                      "that address waits (exponential backoff)")
    signin_account_ceiling: int = Field(
        default=100, ge=1, description="failed sign-ins of one account in an hour, from all "
                                       "addresses, before it refuses every sign-in")
    signin_backoff_s: float = Field(
        default=30.0, gt=0, description="the first wait past a limit; it doubles with each "
                                        "further failure, up to 15 minutes")
    basic_auth_cache_s: float = Field(
        default=60.0, ge=0, description="per server process: how long a verified HTTP Basic "
                                        "password is trusted without argon2 again (0: off)")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    workers: int = Field(default=1, ge=1)

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("database_url must be sqlite:///FILE.gpkg or postgresql://…")
        return url

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is the embedded GeoPackage."""
        return self.database_url.startswith("sqlite")
