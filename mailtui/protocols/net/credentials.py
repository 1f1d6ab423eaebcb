"""The secret an account logs in with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """A password or an OAuth access token (never both); ``repr`` hides them."""

    password: str | None = None
    oauth_token: str | None = None

    def __repr__(self) -> str:
        kind = "oauth" if self.oauth_token else "password" if self.password else "none"
        return f"Credentials(<{kind}>)"
