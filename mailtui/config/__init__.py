"""``config.toml``: ``reader`` reads it (typed, validated on load, never half-applied);
its names are re-exported here. ``edit`` adds, changes and removes accounts with the
user's comments kept; it is imported where it is used (tomlkit is start-up time that
reading the config never needs).
"""

from mailtui.config.reader import (
    AccountConfig,
    Config,
    ConfigError,
    SmtpConfig,
    UiConfig,
    load,
    parse,
    parse_fingerprint,
)

__all__ = [
    "AccountConfig",
    "Config",
    "ConfigError",
    "SmtpConfig",
    "UiConfig",
    "load",
    "parse",
    "parse_fingerprint",
]
