"""Replies in an expanded conversation are indented by how deep they reply: a nested
reply is deeper than the message it answers, and sits under it (tree order)."""

from __future__ import annotations

from pathlib import Path

from mailtui.mime.threading import reply_tree
from mailtui.models import Address, Envelope, Flag, NewMessage

from .conftest import FakeManager, make_app, message_date, open_mail, screen_lines
from .test_main_screen import rows_loaded, wait_until
from .test_triage import status

# (sender, answers) in date order: Bea and Cai answer Ann, Dan answers Bea (after Cai).
BRANCHES = [("Ann Root", None), ("Bea Reply", 0), ("Cai Reply", 0), ("Dan Nested", 1)]


def branching() -> list[NewMessage]:
    out = []
    for k, (name, answers) in enumerate(BRANCHES):
        chain: list[int] = []
        at = answers
        while at is not None:
            chain.insert(0, at)
            at = BRANCHES[at][1]
        envelope = Envelope(
            subject="Offsite" if answers is None else "Re: Offsite",
            from_=(Address(name, f"{name.split()[0].lower()}@example.test"),),
            to=(Address("Me", "me@example.test"),),
            date=message_date(0) - 600 + k * 60,
            message_id=f"<offsite{k}@example.test>",
            in_reply_to=f"<offsite{answers}@example.test>" if answers is not None else "",
            references=tuple(f"<offsite{j}@example.test>" for j in chain),
            size=1500,
        )
        out.append(NewMessage(f"offsite{k}", envelope, Flag.SEEN))
    return out


def indent_of(line: str) -> int:
    """Columns of indent before the reply marker '>' after the sender column."""
    marker = line.index("> ")
    before = line[:marker]
    return len(before) - len(before.rstrip(" "))


async def test_nested_replies_are_indented_deeper_at_80x24(tmp_path: Path) -> None:
    mail = await open_mail(tmp_path / "cache.sqlite", 5)
    try:
        await mail.add("INBOX", branching())
        app = make_app(mail.store, FakeManager())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            await pilot.press("T")
            await wait_until(pilot, lambda: "conversations" in status(app))
            await wait_until(pilot, lambda: any("[4] Re: Offsite" in line
                                                for line in screen_lines(app)))
            await pilot.press("j", "z")
            await wait_until(pilot, lambda: any("Ann Root" in line for line in screen_lines(app)))
            replies = [line for line in screen_lines(app) if "> " in line and "Offsite" in line]
            senders = [next(n for n, _ in BRANCHES if n in line) for line in replies]
            assert senders == ["Ann Root", "Bea Reply", "Dan Nested", "Cai Reply"]  # a tree
            depth = {name: indent_of(line) for name, line in zip(senders, replies, strict=True)}
            assert depth["Bea Reply"] > depth["Ann Root"]
            assert depth["Dan Nested"] > depth["Bea Reply"]
            assert depth["Cai Reply"] == depth["Bea Reply"]
    finally:
        await mail.store.close()


def test_reply_tree() -> None:
    messages = [
        ("<a>", "", ()),
        ("<b>", "<a>", ("<a>",)),
        ("<c>", "<a>", ("<a>",)),
        ("<d>", "<b>", ("<a>", "<b>")),
        ("<e>", "<gone>", ("<a>", "<gone>")),  # its parent is not here: the nearest ref
        ("<f>", "<g>", ()),  # a loop of forged headers is broken
        ("<g>", "<f>", ()),
        ("", "", ()),  # no Message-ID at all
    ]
    assert reply_tree(messages) == [
        (0, 0), (1, 1), (3, 2), (2, 1), (4, 1), (5, 0), (6, 1), (7, 0),
    ]
