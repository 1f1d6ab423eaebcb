"""Property tests (hypothesis): mangled and random messages never raise, never leak
control characters."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtui.mime import attachment_bytes, body_text, parse_envelope, parse_message

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = [p.read_bytes() for p in sorted((DATA / "valid").glob("*.eml"))]

_ALWAYS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_ALWAYS}]")
UNSAFE_LINE = re.compile(f"[\x00-\x1f{_ALWAYS}]")

FRAGMENTS = [
    b"\x1b]52;c;aGk=\x07", b"\x1b[2J", b"\xc2\x9b31m", b"\xe2\x80\xae", b"\x00", b"\r",
    b"\n\n", b"\r\n\r\n", b"--", b"=?utf-8?b?", b"?=", b"=?x-unknown?q?=FF?=", b"\xff\xfe",
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
    b"Content-Type: message/rfc822\r\n\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"filename*0*=utf-8''%E2%80%AE; filename*1=..%2F..%2Fx", b"<a href='javascript:x'>",
    b"<div><table><tr><td>", b"&#27;[31m", b"charset=\"utf-7\"", b"+AGEAYgBj-",
]  # fmt: skip

MULTILINE_FIELDS = {"text", "html"}


def strings(obj: Any, multiline: bool = False) -> Iterator[tuple[str, bool]]:
    if isinstance(obj, str):
        yield obj, multiline
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from strings(getattr(obj, f.name), f.name in MULTILINE_FIELDS)
    elif isinstance(obj, tuple | list):
        for item in obj:
            yield from strings(item, multiline)


def check(raw: bytes) -> None:
    envelope = parse_envelope(raw)
    parsed = parse_message(raw)
    for s, multiline in strings((envelope, parsed)):
        assert not (UNSAFE_TEXT if multiline else UNSAFE_LINE).search(s), repr(s[:200])
    assert not UNSAFE_TEXT.search(body_text(raw))
    for attachment in parsed.attachments:
        attachment_bytes(raw, attachment.part_index)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        if action == "insert":
            raw[pos:pos] = draw(st.sampled_from(FRAGMENTS) | st.binary(max_size=8))
        elif action == "delete":
            del raw[pos : pos + draw(st.integers(1, 64))]
        elif action == "flip" and pos < len(raw):
            raw[pos] = draw(st.integers(0, 255))
        elif action == "truncate":
            del raw[pos:]
    return bytes(raw)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mangled())
def test_mangled_messages(raw: bytes) -> None:
    check(raw)


@SETTINGS
@given(st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=20), max_size=30))
def test_messages_made_of_hostile_fragments(pieces: list[bytes]) -> None:
    check(b"".join(pieces))


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    check(raw)
