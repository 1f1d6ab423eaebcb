"""mailto: URLs (RFC 6068), including the examples of its section 6."""

from __future__ import annotations

import pytest

from mailtui.compose import Identity, Mailto, MailtoError, draft_from_mailto, parse_mailto
from mailtui.models import Address


def a(addr: str, name: str = "") -> Address:
    return Address(name, addr)


CASES = [
    ("mailto:chris@example.com", Mailto(to=(a("chris@example.com"),))),
    (
        "mailto:infobot@example.com?subject=current-issue",
        Mailto(to=(a("infobot@example.com"),), subject="current-issue"),
    ),
    (
        "mailto:infobot@example.com?body=send%20current-issue",
        Mailto(to=(a("infobot@example.com"),), body="send current-issue"),
    ),
    (
        "mailto:infobot@example.com?body=send%20current-issue%0D%0Asend%20index",
        Mailto(to=(a("infobot@example.com"),), body="send current-issue\nsend index"),
    ),
    (
        "mailto:list@example.org?In-Reply-To=%3C3469A91.D10AF4C@example.com%3E",
        Mailto(to=(a("list@example.org"),), in_reply_to="<3469A91.D10AF4C@example.com>"),
    ),
    (
        "mailto:majordomo@example.com?body=subscribe%20bamboo-l",
        Mailto(to=(a("majordomo@example.com"),), body="subscribe bamboo-l"),
    ),
    (
        "mailto:joe@example.com?cc=bob@example.com&body=hello",
        Mailto(to=(a("joe@example.com"),), cc=(a("bob@example.com"),), body="hello"),
    ),
    (
        "mailto:?to=joe@example.com&cc=bob@example.com&body=hello",
        Mailto(to=(a("joe@example.com"),), cc=(a("bob@example.com"),), body="hello"),
    ),
    (
        "mailto:gorby%25kremvax@example.com",
        Mailto(to=(a("gorby%kremvax@example.com"),)),
    ),
    (
        "mailto:Mike%26family@example.org",
        Mailto(to=(a("Mike&family@example.org"),)),
    ),
    (
        "mailto:user@example.org?subject=caf%C3%A9",
        Mailto(to=(a("user@example.org"),), subject="café"),
    ),
    (  # "+" is a plus, not a space (this is not a form)
        "mailto:a+tag@example.org?subject=1+1",
        Mailto(to=(a("a+tag@example.org"),), subject="1+1"),
    ),
    (
        "MAILTO:a@example.org,b@example.org?to=c@example.org&bcc=d@example.org&to=a@example.org",
        Mailto(
            to=(a("a@example.org"), a("b@example.org"), a("c@example.org")),
            bcc=(a("d@example.org"),),
        ),
    ),
    (  # unsafe and unknown fields are ignored
        "mailto:a@example.org?from=boss@example.org&reply-to=x@evil.example&X-Foo=1&attach=/etc/passwd",
        Mailto(to=(a("a@example.org"),)),
    ),
    (  # a header value cannot smuggle a line break
        "mailto:a@example.org?subject=hi%0D%0ABcc:%20evil@example.org",
        Mailto(to=(a("a@example.org"),), subject="hi Bcc: evil@example.org"),
    ),
    (
        "mailto:a@example.org?subject=x#fragment",
        Mailto(to=(a("a@example.org"),), subject="x"),
    ),
    ("mailto:", Mailto()),
    (
        "mailto:%22Doe,%20J%22%20%3Cj@example.com%3E",
        Mailto(to=(a("j@example.com", "Doe, J"),)),
    ),
]


@pytest.mark.parametrize(("url", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_parse_mailto(url: str, expected: Mailto) -> None:
    assert parse_mailto(url) == expected


@pytest.mark.parametrize(
    "url", ["http://example.org", "mailto:not-an-address", "mailto:a@example.org?cc=nope", "x"]
)
def test_bad_mailto(url: str) -> None:
    with pytest.raises(MailtoError):
        parse_mailto(url)


def test_draft_from_mailto() -> None:
    me = Identity("me@example.org", "Me")
    d = draft_from_mailto(
        "mailto:a@example.org?subject=Hi&In-Reply-To=%3Cp@example.net%3E&body=x", me
    )
    assert d.from_ == me
    assert d.to == (a("a@example.org"),)
    assert (d.subject, d.body, d.in_reply_to, d.references) == (
        "Hi",
        "x",
        "<p@example.net>",
        ("<p@example.net>",),
    )
