"""The account kinds mailtui knows, each described by its backend package.

``KINDS`` maps ``kind`` (as config.toml spells it) to its ``KindSpec``, in the order a
setup wizard offers them. Describing a kind loads none of its backend's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mailtui.errors import ConfigError
from mailtui.models import AccountKind
from mailtui.protocols.demo.kind import DEMO
from mailtui.protocols.eas.kind import EXCHANGE
from mailtui.protocols.imap.kind import IMAP
from mailtui.protocols.pop3.kind import POP3
from mailtui.sync.contract import KindSpec

KINDS: Mapping[str, KindSpec] = MappingProxyType(
    {spec.name: spec for spec in (IMAP, POP3, EXCHANGE, DEMO)}
)


def kind(name: str | AccountKind) -> KindSpec:
    """The description of kind ``name``. Raises ConfigError for an unknown one."""
    spec = KINDS.get(str(name))
    if spec is None:
        known = ", ".join(KINDS)
        raise ConfigError(f"unknown account kind {str(name)!r} (known: {known})")
    return spec


def configurable() -> tuple[KindSpec, ...]:
    """The kinds an account in config.toml can have: what the setup wizard offers."""
    return tuple(spec for spec in KINDS.values() if spec.configurable)
