"""Settings of the web UI (``DEMINE_UI_*``), read once when the app is made."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class UiSettings(BaseSettings):
    """What a deployment may change about the web pages."""

    model_config = SettingsConfigDict(env_prefix="DEMINE_UI_", extra="ignore")

    basemap_url: str | None = Field(
        default=None, description="an online raster basemap under the map, as an XYZ URL "
        "template (https://…/{z}/{x}/{y}.png); off by default: field offices are offline and "
        "the page then asks nothing of any server but demine")
    basemap_attribution: str = ""

    @field_validator("basemap_url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or "{z}" not in value:
            raise ValueError("an http(s) XYZ URL template with {z}, {x} and {y}")
        return value

    @property
    def basemap_origin(self) -> str | None:
        """scheme://host[:port] of the basemap, for the Content-Security-Policy."""
        if not self.basemap_url:
            return None
        parts = urlsplit(self.basemap_url)
        return f"{parts.scheme}://{parts.netloc}"
