"""Suite-wide rules.

A skipped test proves nothing, so the suite fails when any test was skipped (or xfailed):
a missing server or tool must be installed (scripts/install-test-deps.sh), not skipped.
"""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = len(reporter.stats.get("skipped", [])) + len(reporter.stats.get("xfailed", []))
    if skipped and exitstatus == 0:
        reporter.write_line(
            f"FAILED: {skipped} test(s) were skipped; every test must run (see -ra above)",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _forget_secrets_handed_out() -> None:
    """The redaction of logs blanks every secret the process handed out; a test's
    passwords ("secret") must not blank words in the next test's expectations."""
    import importlib

    importlib.import_module("mailtui.secrets.redact")._seen.clear()
