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

and checks that both ways give the same items and envelopes. Verdict: PASS when the
results agree and each fast path is faster than the general code.
"""

from __future__ import annotations

import argparse
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
from mailtui.protocols.imap.messages import (  # noqa: E402
    ENVELOPE_FIELDS,
    envelope_jobs,
    parse_envelopes,
)
from mailtui.protocols.imap.wire import fetch_dict, tokenize, tokenize_any  # noqa: E402

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
    fig = {
        "fetch_general_us": best(runs, lambda: [tokenize_any(a) for a in answers]) * per,
        "fetch_fast_us": best(runs, lambda: [tokenize(a) for a in answers]) * per,
        "envelope_general_us": best(runs, lambda: general_envelopes(jobs)) * per,
        "envelope_cold_us": best(
            runs, lambda: parse_envelopes(7, jobs), headers._ADDRESS_MEMO.clear
        )
        * per,
        "envelope_warm_us": best(runs, lambda: parse_envelopes(7, jobs)) * per,
    }
    print(f"messages: {n} count")
    for name, value in fig.items():
        print(f"{name}: {value:.2f} us")
    problems = []
    if not same_items:
        problems.append("the fast path's items differ")
    if not same_envelopes:
        problems.append("the envelopes differ")
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
