"""Charset fallbacks, RFC 2047 encoded words, RFC 2231 parameters, header blocks."""

from __future__ import annotations

import pytest

from mailtui.mime._decode import (
    codec_for,
    decode_bytes,
    decode_words,
    fix_surrogates,
    parse_params,
    read_header_block,
)


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ('"iso-8859-1"', "cp1252"),  # what senders mean by it
        ("Shift_JIS", "cp932"),
        ("gb2312", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("koi8-r", "koi8-r"),
        ("unicode-1-1-utf-7", "utf-7"),
        ("x-unknown-42", None),
        ("", None),
        (None, None),
        ("rot13", None),  # a str-to-str codec, not a charset
        ("base64", None),
        ("undefined", None),
        ("unicode_escape", None),  # would turn "\x1b" text into an ESC
        ("idna", None),
        ("a" * 500, None),
        ("utf-8\x00", None),
    ],
)
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    ("data", "charset", "text", "as_declared"),
    [
        (b"plain", None, "plain", True),
        (b"plain", "x-unknown-42", "plain", False),
        ("Grüße".encode(), "utf-8", "Grüße", True),
        ("Grüße".encode(), "us-ascii", "Grüße", False),  # mislabelled UTF-8
        ("Grüße".encode("latin-1"), "utf-8", "Grüße", False),  # mislabelled latin-1
        ("Grüße".encode("latin-1"), None, "Grüße", False),  # 8-bit without a charset
        ("“quoted”".encode("cp1252"), "iso-8859-1", "“quoted”", True),  # cp1252 superset
        ("Привет".encode("koi8-r"), "koi8-r", "Привет", True),
        ("日本語".encode("shift_jis"), "shift_jis", "日本語", True),
        ("한국어".encode("euc-kr"), "ks_c_5601-1987", "한국어", True),
        (b"Gr\xfc\xc3\x9fe", "x-unknown-42", "Grüße", False),  # mixed latin-1 and UTF-8
        (b"\x81\x8d\x8f\x90\x9d", "utf-8", "\x81\x8d\x8f\x90\x9d", False),  # cp1252 holes
        (b"caf\xe9", "undefined", "café", False),
    ],
)
def test_decode_bytes(data: bytes, charset: str | None, text: str, as_declared: bool) -> None:
    assert decode_bytes(data, charset) == (text, as_declared)


def test_decode_bytes_prefix_keeps_a_split_character_back() -> None:
    data = "日本語".encode()[:-1]
    assert decode_bytes(data, "utf-8", final=False) == ("日本", True)


def test_multibyte_charset_with_one_bad_byte_stays_in_that_charset() -> None:
    data = "いつもお世話になっております".encode("shift_jis") + b"\x81\x20"
    text, as_declared = decode_bytes(data, "shift_jis")
    assert text.startswith("いつもお世話に") and not as_declared


def test_fix_surrogates() -> None:
    assert fix_surrogates("Gr\udcc3\udcbc\udcc3\udc9fe") == "Grüße"
    assert fix_surrogates("Gr\udcfc\udcdfe") == "Grüße"  # latin-1 bytes
    assert fix_surrogates("already decoded: ü") == "already decoded: ü"
    assert fix_surrogates("\ud800 not an escape") == "\ud800 not an escape"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("no words", "no words"),
        ("=?utf-8?q?J=C3=BCrgen?=", "Jürgen"),
        ("=?UTF-8?B?SsO8cmdlbg==?=", "Jürgen"),
        ("=?utf-8?b?SsO8cmdlbg?=", "Jürgen"),  # missing padding
        ("=?iso-8859-1?q?caf=E9_au_lait?=", "café au lait"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # whitespace between words goes
        ("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),
        ("x =?utf-8?q?a?= y", "x a y"),  # whitespace next to text stays
        ("=?utf-8?b?5pel?= =?utf-8?b?5pys6Kqe?=", "日本語"),
        ("=?utf-8?b?5pel5g==?= =?utf-8?b?nKzoqp4=?=", "日本語"),  # a character split in two words
        ("=?utf-8*de?q?Stra=C3=9Fe?=", "Straße"),  # RFC 2231 language suffix
        ("=?koi8-r?b?8NLJ18XU?=", "Привет"),
        ("=?x-unknown-42?q?caf=E9?=", "café"),
        ("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="),  # undecodable: kept as written
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
        ("=??q?x?=", "=??q?x?="),
        ("=?utf-8?x?abc?=", "=?utf-8?x?abc?="),
        ("=?utf-8?q?=1B]0;t=07?=", "\x1b]0;t\x07"),  # decoded here, sanitized by callers
    ],
)
def test_decode_words(raw: str, text: str) -> None:
    assert decode_words(raw) == text


@pytest.mark.parametrize(
    ("raw", "main", "params"),
    [
        ("text/plain", "text/plain", {}),
        ("Text/HTML; Charset=UTF-8", "text/html", {"charset": "UTF-8"}),
        ('text/plain; charset="utf-8"; format=flowed', "text/plain",
         {"charset": "utf-8", "format": "flowed"}),
        ('attachment; filename="a;b \\"c\\".txt"', "attachment", {"filename": 'a;b "c".txt'}),
        ('attachment; filename="unterminated.txt', "attachment", {"filename": "unterminated.txt"}),
        ("attachment; filename=spaces in name.pdf", "attachment",
         {"filename": "spaces in name.pdf"}),
        ("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", "attachment",
         {"filename": "résumé.pdf"}),
        ("attachment; filename*=iso-8859-1'de'gr%FC%DFe.txt", "attachment",
         {"filename": "grüße.txt"}),
        ("attachment; filename*0*=utf-8''%E6%97%A5%E6; filename*1*=%9C%AC.pdf", "attachment",
         {"filename": "日本.pdf"}),
        ("attachment; filename*1=\"b.txt\"; filename*0=\"a\"", "attachment",
         {"filename": "ab.txt"}),  # out of order
        ("attachment; filename=plain.txt; filename*=utf-8''better.txt", "attachment",
         {"filename": "better.txt"}),
        ("attachment; filename*=x-unknown''caf%E9.txt", "attachment", {"filename": "café.txt"}),
        ("attachment; filename*=utf-8''%ZZbad%", "attachment", {"filename": "%ZZbad%"}),
        ("attachment; filename=a; filename=b", "attachment", {"filename": "a"}),
        ("multipart/mixed;\r\n\tboundary=\"==b==\"", "multipart/mixed", {"boundary": "==b=="}),
        (";;; =x; y", "", {}),
    ],
)  # fmt: skip
def test_parse_params(raw: str, main: str, params: dict[str, str]) -> None:
    assert parse_params(raw) == (main, params)


def test_parse_params_with_raw_8bit() -> None:
    raw = 'attachment; filename="Gr\udcc3\udcbc\udcc3\udc9fe.txt"'
    assert parse_params(raw) == ("attachment", {"filename": "Grüße.txt"})


def test_read_header_block() -> None:
    raw = b"From x\nSubject: a\n b\nX: y\r\nnot a header\nmore\n\nbody"
    fields, body = read_header_block(raw)
    assert fields == [("Subject", "a b"), ("X", "y")]
    assert raw[body:].startswith(b"not a header")
    assert read_header_block(b"\r\nbody") == ([], 2)
    assert read_header_block(b"Subject: only") == ([("Subject", "only")], 13)
    assert read_header_block(b"") == ([], 0)
