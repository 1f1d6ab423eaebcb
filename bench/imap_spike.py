"""The library spike behind docs/decisions.md: mailtui's own IMAP layer vs aioimaplib.

    python bench/imap_spike.py [N]      (default 10000; aioimaplib must be installed)

Starts the test harness's Dovecot with N generated messages (bench/mailgen.py) and times,
over implicit TLS, for each client: log in + SELECT, one FETCH of every header, one FETCH
of every full body. Bodies are only counted, not stored: this measures the protocol layer.
"""

from __future__ import annotations

import asyncio
import imaplib
import ssl
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import mailgen  # noqa: E402

from mailtui.protocols.imap.connection import ImapConnection  # noqa: E402
from mailtui.protocols.imap.wire import fetch_dict  # noqa: E402
from tests.servers import DovecotServer, make_self_signed_cert  # noqa: E402

HEADERS = b"(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])"
BODIES = b"(UID BODY.PEEK[])"


async def own(
    host: str, port: int, ctx: ssl.SSLContext, user: str, pw: str, security: str = "tls"
) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    conn = await ImapConnection.open(host, port, security, ctx)  # type: ignore[arg-type]
    await conn.login(user, pw)
    await conn.command(b"SELECT", b"INBOX")
    out["login_select"] = time.perf_counter() - t
    for name, items in (("headers", HEADERS), ("bodies", BODIES)):
        t = time.perf_counter()
        total = 0
        async for resp in conn.stream(b"FETCH", b"1:*", items):
            for value in fetch_dict(resp.items).values():
                if isinstance(value, bytes):
                    total += len(value)
        out[name] = time.perf_counter() - t
        out[name + "_mb"] = total / 1e6
    await conn.logout()
    return out


async def aio(host: str, port: int, ctx: ssl.SSLContext, user: str, pw: str) -> dict[str, float]:
    import aioimaplib

    out: dict[str, float] = {}
    t = time.perf_counter()
    client = aioimaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=600)
    await client.wait_hello_from_server()
    await client.login(user, pw)
    await client.select("INBOX")
    out["login_select"] = time.perf_counter() - t
    for name, items in (("headers", HEADERS), ("bodies", BODIES)):
        t = time.perf_counter()
        resp = await client.fetch("1:*", items.decode())
        total = sum(len(x) for x in resp.lines if isinstance(x, bytearray | bytes))
        out[name] = time.perf_counter() - t
        out[name + "_mb"] = total / 1e6
    await client.logout()
    return out


def stdlib(host: str, port: int, ctx: ssl.SSLContext, user: str, pw: str) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    imap = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
    imap.login(user, pw)
    imap.select("INBOX")
    out["login_select"] = time.perf_counter() - t
    for name, items in (("headers", HEADERS), ("bodies", BODIES)):
        t = time.perf_counter()
        _, data = imap.fetch("1:*", items.decode())
        total = sum(len(x[1]) for x in data if isinstance(x, tuple))
        out[name] = time.perf_counter() - t
        out[name + "_mb"] = total / 1e6
    imap.logout()
    return out


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    results: dict[str, dict[str, float]] = {}
    failed: list[str] = []
    with mailgen.searchable_tempdir() as tmp:
        tls = make_self_signed_cert(Path(tmp) / "tls")
        with DovecotServer(tls, base_dir=Path(tmp) / "dovecot") as dovecot:
            dovecot.add_user("spike", "secret")
            dovecot.deliver_many("spike", mailgen.messages(n))
            ctx = ssl.create_default_context(cafile=str(tls.ca_path))
            args = (dovecot.host, dovecot.imaps_port, ctx, "spike", "secret")
            asyncio.run(own(*args))  # warm Dovecot's index and cache once
            plain = (dovecot.host, dovecot.imap_port, ctx, "spike", "secret")
            results["own_plain"] = asyncio.run(own(*plain, security="none"))
            for label, run in (
                ("own", lambda: asyncio.run(own(*args))),
                ("aioimaplib", lambda: asyncio.run(asyncio.wait_for(aio(*args), 120))),
                ("imaplib", lambda: stdlib(*args)),
            ):
                try:
                    results[label] = run()
                except Exception as exc:  # noqa: BLE001 - a spike reports, never stops
                    failed.append(label)
                    print(f"{label} failed: {exc.__class__.__name__}", file=sys.stderr)
    print(f"messages: {n} count")
    print(f"megabytes: {results['own']['bodies_mb']:.1f} MB")
    for label, res in results.items():
        for key in ("login_select", "headers", "bodies"):
            print(f"{label}_{key}_s: {res[key]:.3f} s")
    for label in failed:
        print(f"{label}_failed: 1 count")
    others = [r["bodies"] for k, r in results.items() if k not in ("own", "own_plain")]
    ok = "own" in results and all(results["own"]["bodies"] <= o * 1.1 for o in others)
    print(
        "verdict: "
        + ("PASS" if ok else "FAIL")
        + f" (own layer vs {len(others)} working alternatives over TLS; failed: "
        + (", ".join(failed) or "none")
        + ")"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
