"""``config.toml``: ``reader`` reads it (typed, validated on load, never half-applied);
its names are re-exported here.
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
