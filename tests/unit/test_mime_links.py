"""Links of a multipart/alternative message come from its HTML part too, each target
once; a link whose text shows one host and whose target goes to another is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.mime import Link, parse_message
from mailtui.mime.html import html_links
from mailtui.mime.links import Misleading, merge_links, misleading

DATA = Path(__file__).resolve().parents[1] / "data" / "links"


def test_alternative_message_lists_the_links_of_its_html_part() -> None:
    parsed = parse_message((DATA / "alternative-links.eml").read_bytes())
    assert "https://shop.example/help" in parsed.text  # the text/plain part is shown
    assert list(parsed.links) == [
        Link("help pages", "https://shop.example/help"),
        Link("confirm your details", "https://evil.example/login?u=1"),
        Link("https://www.paypal.com/signin", "https://paypal.com.evil.example/signin"),
        Link("paypal.com", "https://evil.example/pp"),
        Link("shop.example", "https://www.shop.example/"),
    ]
    flagged = [str(m) for m in map(misleading, parsed.links) if m is not None]
    assert flagged == [
        "text shows www.paypal.com, goes to paypal.com.evil.example",
        "text shows paypal.com, goes to evil.example",
    ]


@pytest.mark.parametrize(
    ("text", "href", "expected"),
    [
        ("paypal.com", "https://evil.example/", Misleading("paypal.com", "evil.example")),
        ("PayPal.com", "https://www.paypal.com/x", None),  # a subdomain is the same place
        ("www.paypal.com", "https://paypal.com/", None),
        ("Visit https://bank.example/login now", "https://bank.example.evil.test/",
         Misleading("bank.example", "bank.example.evil.test")),
        ("support@bank.example", "mailto:phish@evil.example",
         Misleading("bank.example", "evil.example")),
        ("support@bank.example", "mailto:support@bank.example", None),
        ("Read more", "https://evil.example/", None),  # text names no host
        ("report.pdf", "https://files.example/r/1", None),  # a file name, not a host
        ("bücher.example", "https://xn--bcher-kva.example/", None),
        ("www.shop.example", "tel:+15550100", None),  # no host to compare
    ],
)
def test_misleading(text: str, href: str, expected: Misleading | None) -> None:
    assert misleading(Link(text, href)) == expected


def test_merge_keeps_the_shown_order_and_each_target_once() -> None:
    shown = [Link("", "https://a.example/"), Link("", "https://b.example/")]
    html = [Link("B", "https://b.example/"), Link("C", "https://c.example/"),
            Link("B again", "https://b.example/")]
    assert merge_links(shown, html) == [
        Link("", "https://a.example/"),
        Link("B", "https://b.example/"),
        Link("C", "https://c.example/"),
    ]


def test_html_links_never_loads_or_lists_unsafe_schemes() -> None:
    links = html_links(
        '<a href="javascript:x()">a</a><a href="data:text/html,x">b</a>'
        '<img src="https://tracker.example/p.gif"><a href="https://ok.example/">ok</a>'
    )
    assert links == [Link("ok", "https://ok.example/")]
    assert html_links("") == [] and html_links("<!-- only -->") == []
