"""Service settings, read once from ``MIGFIX_*`` environment variables.

One object carries everything the app factory needs, so tests build a ``Settings``
directly and production reads the environment; nothing else looks at ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """SQLite under the user's data directory: works with no setup, survives restarts."""
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'migfix' / 'feedback.sqlite3'}"


class Settings(BaseSettings):
    """``MIGFIX_<NAME>`` for each field, e.g. ``MIGFIX_SLACK_SIGNING_SECRET``."""

    model_config = SettingsConfigDict(env_prefix="MIGFIX_", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    database_url: str = Field(default_factory=default_database_url)
    project: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    index_dir: Path | None = None
    semantic: bool = True
    time_budget: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_000_000, gt=0)

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")
