"""A new message's values made from its envelope (``models/envelope_values.py``): the
fast ways give what the general ones give."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.models import Address
from mailtui.models import envelope_values as ev
from mailtui.models.subjects import normalize_subject


def general_key(subject: str) -> tuple[str, bool]:
    key = normalize_subject(subject)
    return key.casefold(), bool(key) and key != " ".join(subject.split())


SUBJECT_PARTS = st.sampled_from(
    [
        "Re",
        "re",
        "AW",
        "Fwd",
        "fw",
        "[list]",
        "[",
        "]",
        "(fwd)",
        "(",
        ")",
        ":",
        "：",
        "^2",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u2003",
        "\x1c",
        "Plan",
        "Ünïcode",
        "回复",
        "x",
        "2",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(SUBJECT_PARTS, max_size=8).map("".join) | st.text(max_size=40))
def test_subject_key_is_the_general_one(subject: str) -> None:
    assert ev.subject_key(subject) == general_key(subject)


def test_subject_key_of_plain_and_marked_subjects() -> None:
    assert ev.subject_key("  Quarterly   plan ") == ("quarterly plan", False)
    assert ev.subject_key("Re: [dev] Plan") == ("plan", True)
    assert ev.subject_key("Plan (fwd)") == ("plan", True)


def test_address_lists_encoded_once_by_identity() -> None:
    shared = (Address('Ann "A" 😀', "ann@example.org"), Address("", "me@example.org"))
    first = ev.encode_addresses(shared)
    assert json.loads(first) == [['Ann "A" 😀', "ann@example.org"], ["", "me@example.org"]]
    assert ev.encode_addresses(shared) is first  # the same tuple: the same text
    equal = tuple(shared)[:1] + tuple(shared)[1:]  # an equal tuple, another object
    assert equal is not shared and ev.encode_addresses(equal) == first
    as_list = list(shared)  # a list may change: never remembered
    assert ev.encode_addresses(as_list) == first
    as_list[0] = Address("Bob", "bob@example.org")
    assert json.loads(ev.encode_addresses(as_list))[0] == ["Bob", "bob@example.org"]


def test_the_address_memo_stays_bounded() -> None:
    keep = [(Address(f"n{i}", f"a{i}@x"),) for i in range(ev._ENCODED_MAX * 2 + 5)]
    for t in keep:
        assert json.loads(ev.encode_addresses(t)) == [[t[0].name, t[0].addr]]
    assert len(ev._ENCODED) <= ev._ENCODED_MAX
