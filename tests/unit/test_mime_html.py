"""HTML to text: layout, links, no network, hostile input."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from mailtui.mime.html import MAX_HTML_CHARS, Link, html_to_text, strip_tags


def test_layout_and_links() -> None:
    rendered = html_to_text(
        "<html><head><title>T</title><style>p{color:red}</style>"
        "<script>alert(1)</script></head><body><h1>News</h1>"
        '<p>Hello <b>world</b> &amp; friends. <a href="https://example.com/x?a=1&amp;b=2">'
        "Read <i>more</i></a></p>"
        '<p><a href="javascript:alert(1)">js</a> <a href="https://example.com/x?a=1&amp;b=2">'
        'again</a> <a href="mailto:me@example.com"><img src="x.png" alt="mail me"></a></p>'
        "<ul><li>one</li><li>two</li></ul></body></html>"
    )
    assert rendered.text == (
        "News\n\nHello world & friends. Read more [1]\n\njs again [1] [2]\n\n  * one\n  * two"
    )
    assert rendered.links == (
        Link("Read more", "https://example.com/x?a=1&b=2"),
        Link("mail me", "mailto:me@example.com"),
    )
    assert rendered.problems == ()


@pytest.mark.parametrize(
    "source",
    [
        "<p>a</p><script>document.write('x')</script>",
        "<p>a</p><style>body{}</style>",
        "<p>a</p><template><p>x</p></template>",
        "<p>a<script>unterminated",
        "<p>a</p><!-- comment x -->",
    ],
)
def test_invisible_content_is_dropped(source: str) -> None:
    assert html_to_text(source).text == "a"


def test_escapes_from_entities_are_removed() -> None:
    rendered = html_to_text(
        '<p>&#27;[31mred&#x1b;[0m&#7;</p><a href="https://a.example/&#27;]8;;x&#7;">l</a>'
    )
    assert rendered.text == "red\n\nl [1]"
    assert "\x1b" not in rendered.links[0].href


@pytest.mark.parametrize("source", ["", "   ", "<!-- only a comment -->", "<html></html>"])
def test_empty_documents(source: str) -> None:
    assert html_to_text(source).text == ""


def test_xml_declaration_and_nul() -> None:
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>x\x00y</p>').text == "xy"


def test_too_deep_falls_back_to_tag_stripping() -> None:
    rendered = html_to_text("<div>" * 20000 + "deep" + "</div>" * 20000)
    assert rendered.text == "deep"
    assert rendered.problems


def test_huge_input_is_cut() -> None:
    source = "<p>" + "word " * (MAX_HTML_CHARS // 4) + "</p><p>TAIL</p>"
    start = time.perf_counter()
    rendered = html_to_text(source)
    assert time.perf_counter() - start < 60
    assert "TAIL" not in rendered.text
    assert any("2 MB" in p for p in rendered.problems)


def test_links_are_capped() -> None:
    source = "".join(f'<a href="https://e.example/{i}">{i}</a>' for i in range(2000))
    assert len(html_to_text(source).links) == 500


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


def test_nothing_is_fetched(listener: socket.socket) -> None:
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    source = (
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "{base}/dtd">'
        f'<html><head><link rel="stylesheet" href="{base}/css">'
        f'<style>@import url("{base}/import.css"); body {{ background: url({base}/bg) }}</style>'
        f'<script src="{base}/js"></script><meta http-equiv="refresh" content="0;url={base}/r">'
        f'</head><body background="{base}/body"><img src="{base}/img">'
        f'<iframe src="{base}/frame"></iframe><object data="{base}/obj"></object>'
        f'<video poster="{base}/poster"></video><svg><image href="{base}/svg"/></svg>'
        f'<p>text</p><a href="{base}/link">link</a></body></html>'
    )
    rendered = html_to_text(source)
    assert "text" in rendered.text
    time.sleep(0.2)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected


def test_strip_tags() -> None:
    assert strip_tags("<p>a<br>b</p><style>x</style><!-- c --> &lt;x&gt;") == "a\nb\n <x>"
    assert strip_tags("<table><tr><td>a</td><td>b</td></tr></table>") == "a b"
    assert strip_tags("<p>unterminated <b") == "unterminated"
    assert strip_tags("<!-- unterminated comment <p>x</p>") == ""
    # html.unescape drops a reference to ESC; what follows is inert text
    assert strip_tags("&#27;[2Jx\x1b]0;t\x07") == "[2Jx"


def test_dir_comes_through_as_a_mark_at_the_start_of_each_paragraph() -> None:
    rlm, lrm = "\u200f", "\u200e"
    rendered = html_to_text(
        '<html dir="rtl"><body><h1>خبرنامه</h1>'
        "<p>IMAP یا POP؟<br>second line</p>"
        '<p><b>Bold</b> start</p><div dir="ltr"><p>Unsubscribe</p></div>'
        '<p dir="auto">Left to its letters</p></body></html>'
    )
    lines = [line.strip() for line in rendered.text.split("\n") if line.strip()]
    assert lines == [
        rlm + "خبرنامه",
        rlm + "IMAP یا POP؟",
        rlm + "second line",
        rlm + "Bold start",
        lrm + "Unsubscribe",
        "Left to its letters",
    ]
    # Without dir, nothing is added: the paragraph's first letter decides.
    assert html_to_text("<p>IMAP یا POP؟</p>").text == "IMAP یا POP؟"
