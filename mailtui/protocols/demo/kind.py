"""The ``demo`` account kind: a generated mailbox on this machine (``mailtui --demo``).

It has nothing to set up and is not written in config.toml; ``mailtui.accounts.demo_spec``
assembles its worker around the demo server in the demo directory.
"""

from __future__ import annotations

from mailtui.sync.contract import KindSpec, Sending

#: The demo account's name.
ACCOUNT = "demo"

DEMO = KindSpec(
    name="demo",
    label="Demo",
    summary="a generated mailbox on this machine: no network, nothing to set up",
    options=(),
    sending=Sending.NONE,
    configurable=False,
)
