"""The per-message CPU of a first IMAP pass, stage by stage, fast paths against the
general code (issue 17, item 2).

    python bench/envelope_parse.py N [--runs R]

Builds the FETCH answers a first pass gets for N bench/mailgen.py messages (the header
fields ``ENVELOPE_ITEMS`` asks for, in Dovecot's spelling), then times, best of R runs
(default 5), in this process:

    fetch_general_us    ``wire.tokenize_any`` of one answer
    fetch_fast_us       ``wire.tokenize`` (the one-match fast path)
    envelope_general_us ``parse_envelopes`` per message with the fast paths of
                        ``mime.headers`` off (no address memo, ``parsedate_tz``, the
                        sanitizer's regexes for every string)
    envelope_cold_us    with them, the address memo emptied before each run
    envelope_warm_us    with them, the memo filled by the run before
    loop_parsed_us      the event loop's part of reading the answers from a buffer that
                        holds them all (``ImapCommands.responses`` and what
                        ``ImapPull._collect`` does with each), parsed as read
    loop_framed_us      the same, framed in bulk and left raw (``Pending.raw_fetch``)
    jobs_parsed_us      ``envelope_jobs`` of the parsed answers (the parse thread)
    jobs_framed_us      ``envelope_jobs`` of the raw ones (it parses them there)

and checks that both ways give the same items, jobs and envelopes. Verdict: PASS when
the results agree and each fast path is faster than the general code (the framed loop
part and its jobs together faster than the parsed ones).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import mailgen  # noqa: E402

from mailtui.mime import envelope, headers  # noqa: E402
from mailtui.mime.sanitize import clean_line  # noqa: E402
from mailtui.protocols.imap.commands import ImapCommands, Pending  # noqa: E402
from mailtui.protocols.imap.messages import (  # noqa: E402
    ENVELOPE_FIELDS,
    RAW_ANSWER,
    envelope_jobs,
    header_item,
    parse_envelopes,
)
from mailtui.protocols.imap.wire import fetch_dict, tokenize, tokenize_any  # noqa: E402
from mailtui.protocols.net.linereader import LineReader  # noqa: E402

FIELDS = ENVELOPE_FIELDS.decode().split()


def answer(uid: int, raw: bytes) -> list[bytes]:
    """The segments of ``* n FETCH (…)`` after ``FETCH``, as Dovecot spells them."""
    msg = email.message_from_bytes(raw)
    fields = b"".join(
        f"{name}: {msg[name]}\r\n".encode("utf-8", "surrogateescape")
        for name in FIELDS
        if msg[name] is not None
    )
    literal = fields + b"\r\n"
    head = (
        b'(UID %d FLAGS (\\Seen) INTERNALDATE "04-Dec-2026 23:40:46 +0000" '
        b"RFC822.SIZE %d BODY[HEADER.FIELDS (%s)] {%d}\r\n"
        % (uid, len(raw), ENVELOPE_FIELDS, len(literal))
    )
    return [head, literal, b")\r\n"]


def best(runs: int, work: Callable[[], Any], before: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _slow_line(s: str, limit: int) -> str:
    return headers._SPACES.sub(" ", clean_line(s)).strip()[:limit]


def _slow_addresses(raw: str | None) -> Any:
    return headers._parse_addresses(raw) if raw else ()


def general_envelopes(jobs: list[Any]) -> list[Any]:
    """``parse_envelopes`` with the fast paths of ``mime.headers`` off."""
    slow: dict[str, Callable[..., Any]] = {
        "_common_date": lambda raw: None,
        "_addresses": _slow_addresses,
        "_one_line": _slow_line,
    }
    saved = {name: getattr(headers, name) for name in slow}
    for name, value in slow.items():
        setattr(headers, name, value)
    lean = envelope.lean_envelope
    envelope.lean_envelope = lambda block: None  # type: ignore[assignment]
    try:
        return parse_envelopes(7, jobs)
    finally:
        envelope.lean_envelope = lean  # type: ignore[assignment]
        for name, value in saved.items():
            setattr(headers, name, value)


class _Transport:
    """What the reader asks of its transport while it is fed by hand."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _read_answers(wire: bytes, raw: bool) -> tuple[float, list[dict[str, Any]]]:
    """The loop's CPU seconds to read one command's answers out of a buffer that holds
    them all, as ``ImapPull._collect`` reads them, and what it keeps."""
    reader = LineReader(len(wire) + (1 << 20))
    reader.transport = _Transport()  # type: ignore[assignment]
    pos = 0
    while pos < len(wire):  # as the transport fills it, the buffer growing
        view = reader.get_buffer(-1)
        size = min(len(view), len(wire) - pos)
        view[:size] = wire[pos : pos + size]
        reader.buffer_updated(size)
        pos += size
    conn = ImapCommands(reader, "bench")
    pending = Pending("m1", "UID FETCH", frozenset({"FETCH"}), raw_fetch=raw)
    conn._pending.append(pending)
    started = time.process_time()
    fetched: list[dict[str, Any]] = []
    taken: list[tuple[str, bytes]] = []
    async for r in conn.responses(pending, raw_into=taken):
        if r.kind != "FETCH":
            continue
        if r.raw is not None:
            taken.append((r.raw_uid, r.raw))
            continue
        data = fetch_dict(r.items)
        if header_item(data) is not None:
            fetched.append(data)
    fetched += [{"UID": uid, RAW_ANSWER: answer} for uid, answer in taken]
    fetched.sort(key=lambda d: -int(d["UID"]))
    return time.process_time() - started, fetched


def loop_part(runs: int, wire: bytes, raw: bool) -> tuple[float, list[dict[str, Any]]]:
    results = [asyncio.run(_read_answers(wire, raw)) for _ in range(runs)]
    return min(t for t, _ in results), results[0][1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n, runs = args.n, args.runs
    answers = [answer(i + 1, raw) for i, raw in enumerate(mailgen.messages(n))]
    same_items = [tokenize(a) for a in answers] == [tokenize_any(a) for a in answers]
    jobs, _ = envelope_jobs([fetch_dict(tokenize(a)) for a in answers])
    headers._ADDRESS_MEMO.clear()
    same_envelopes = parse_envelopes(7, jobs) == general_envelopes(jobs)
    per = 1e6 / n
    wire = b"".join(b"* %d FETCH " % (i + 1) + b"".join(a) for i, a in enumerate(answers))
    wire += b"m1 OK done\r\n"
    loop_parsed, parsed = loop_part(runs, wire, raw=False)
    loop_framed, framed = loop_part(runs, wire, raw=True)
    same_jobs = envelope_jobs(parsed) == envelope_jobs(framed)
    fig = {
        "fetch_general_us": best(runs, lambda: [tokenize_any(a) for a in answers]) * per,
        "fetch_fast_us": best(runs, lambda: [tokenize(a) for a in answers]) * per,
        "envelope_general_us": best(runs, lambda: general_envelopes(jobs)) * per,
        "envelope_cold_us": best(
            runs, lambda: parse_envelopes(7, jobs), headers._ADDRESS_MEMO.clear
        )
        * per,
        "envelope_warm_us": best(runs, lambda: parse_envelopes(7, jobs)) * per,
        "loop_parsed_us": loop_parsed * per,
        "loop_framed_us": loop_framed * per,
        "jobs_parsed_us": best(runs, lambda: envelope_jobs(parsed)) * per,
        "jobs_framed_us": best(runs, lambda: envelope_jobs(framed)) * per,
    }
    print(f"messages: {n} count")
    for name, value in fig.items():
        print(f"{name}: {value:.2f} us")
    problems = []
    if not same_items:
        problems.append("the fast path's items differ")
    if not same_envelopes:
        problems.append("the envelopes differ")
    if not same_jobs:
        problems.append("the framed answers give other jobs")
    framed_total = fig["loop_framed_us"] + fig["jobs_framed_us"]
    if framed_total >= fig["loop_parsed_us"] + fig["jobs_parsed_us"]:
        problems.append("framing in bulk is not faster")
    if fig["fetch_fast_us"] >= fig["fetch_general_us"]:
        problems.append("the FETCH fast path is not faster")
    if fig["envelope_cold_us"] >= fig["envelope_general_us"]:
        problems.append("the envelope fast paths are not faster")
    print(
        f"verdict: {'FAIL' if problems else 'PASS'} at N={n}"
        + (": " + "; ".join(problems) if problems else "")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
