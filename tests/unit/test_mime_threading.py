"""Subject normalisation for threading."""

from __future__ import annotations

import time

import pytest

from mailtui.mime.threading import normalize_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Plan", "Plan"),
        ("Re: Plan", "Plan"),
        ("RE: re: Re:Plan", "Plan"),
        ("Fwd: Plan", "Plan"),
        ("FW: Fw: fwd:Plan", "Plan"),
        ("AW: WG: Plan", "Plan"),
        ("SV: VS: Antw: Plan", "Plan"),
        ("TR: RIF: Plan", "Plan"),
        ("Re[2]: Re(3): Re^4: Plan", "Plan"),
        ("Re : Plan", "Plan"),
        ("[dev] Re: [dev] Plan", "Plan"),
        ("Re: [PATCH v2 3/7] mime: parse", "mime: parse"),
        ("回复：计划", "计划"),
        ("转发: 计划", "计划"),
        ("Plan (fwd)", "Plan"),
        ("  Re:   Plan   for   May  ", "Plan for May"),
        ("Reply needed: Plan", "Reply needed: Plan"),  # "Reply" is not "Re:"
        ("Return of the plan", "Return of the plan"),
        ("Re: [unterminated tag Plan", "[unterminated tag Plan"),
        ("R: I: not stripped", "R: I: not stripped"),
        ("Re:", ""),
        ("", ""),
        ("Re: Re: Fwd: [list]", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


def test_many_prefixes_are_linear() -> None:
    subject = "Re: " * 100_000 + "Plan"
    start = time.perf_counter()
    assert normalize_subject(subject) == "Plan"
    assert time.perf_counter() - start < 5
