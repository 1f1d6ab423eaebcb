"""An internal error ends the app with one plain line; the traceback (Textual would print
it with local variables, which can hold mail text) goes to the log only."""

from __future__ import annotations

import logging

import pytest

from .conftest import MailFixture, make_app


async def test_an_unhandled_error_prints_one_line_and_logs_the_traceback(
    mail: MailFixture, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(mail.store)
    secret_local = "the body of a private message"
    printed: list[str] = []
    app.error_console.print = lambda *a, **k: printed.extend(map(str, a))  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            try:
                text = secret_local  # a local the default traceback would show
                raise RuntimeError(f"boom ({len(text)})")
            except RuntimeError:
                app._fatal_error()  # what Textual calls for an unhandled exception
            shown = " ".join(str(r) for r in app._exit_renderables)
    assert "internal error (RuntimeError: boom (29))" in shown
    assert "Traceback" not in shown and secret_local not in shown
    assert "Traceback" not in " ".join(printed)
    assert any(r.exc_info for r in caplog.records if "internal error" in r.getMessage())
