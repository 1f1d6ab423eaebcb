"""Finding an account's settings from its email address (the setup wizard's and
``mailtui setup``'s first step).

Sources, best first: the built-in provider table (``providers.toml``), the provider's
own autoconfig file, the ISPDB, MX records at a known provider, DNS SRV records
(RFC 6186/8314), guessing by connecting to imap./mail./pop./smtp. hosts. All run at
once; ``discover`` yields each one's result as it arrives, within a deadline, and
``merge`` turns them into a proposal per account kind. Every source can be pointed
elsewhere (``Options``). This package talks to the network but to no mail account: it
never logs in and never sends a password.
"""

from mailtui.discovery.model import (
    DEFAULT_DEADLINE,
    Email,
    Options,
    Proposal,
    Server,
    Source,
    SourceResult,
    Status,
)
from mailtui.discovery.run import Findings, discover, find, merge

__all__ = [
    "DEFAULT_DEADLINE",
    "Email",
    "Findings",
    "Options",
    "Proposal",
    "Server",
    "Source",
    "SourceResult",
    "Status",
    "discover",
    "find",
    "merge",
]
