"""The ActiveSync WBXML codec on big responses: decode and encode of a Sync response of
about SIZE megabytes, two shapes.

    python bench/eas_wbxml.py SIZE_MB [--runs R]

    mime_decode_s / mime_mb_per_s   a Sync response whose Adds carry 50 KB MIME bodies
                                    (what a first sync with BodyPreference type 4 gets)
    dense_decode_s / dense_mb_per_s a Sync response of many small Adds (headers only,
                                    every tag a few bytes: the worst case for a
                                    token-by-token decoder)
    mime_encode_s, dense_encode_s   encoding the same trees
    elements_dense                  the elements in the dense document

Medians of R runs (default 3). Each run checks the decoded tree equals the built one.
Target: a 16 MB response of either shape decodes in under 1 s on the 2-core test
machine (``dense`` is the binding one), so a response never holds the sync for long.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailtui.protocols.eas.wbxml import Element as E  # noqa: E402
from mailtui.protocols.eas.wbxml import decode, encode  # noqa: E402

TARGET_S_16MB = 1.0
LIMIT = 10**8  # the dense shape has more elements than any real response (MAX_ELEMENTS)


def _add(n: int, body: bytes | None) -> E:
    data = [
        E("Email:To", "bob@example.test"),
        E("Email:From", f"Sender {n} <s{n}@example.test>"),
        E("Email:Subject", f"Message number {n}"),
        E("Email:DateReceived", "2026-12-04T10:11:12.000Z"),
        E("Email:Read", "0"),
        E("Email:Flag"),
    ]
    if body is not None:
        data.append(
            E("AirSyncBase:Body", [E("AirSyncBase:Type", "4"),
                                   E("AirSyncBase:Data", body, opaque=False)])
        )  # fmt: skip
    return E("AirSync:Add", [E("AirSync:ServerId", str(n)), E("AirSync:ApplicationData", data)])


def document(size: int, body: bytes | None) -> E:
    commands = E("AirSync:Commands")
    collection = E(
        "AirSync:Collection",
        [E("AirSync:SyncKey", "1-2"), E("AirSync:CollectionId", "mail%2FINBOX"),
         E("AirSync:Status", "1"), commands],
    )  # fmt: skip
    root = E("AirSync:Sync", [E("AirSync:Collections", [collection])])
    one = len(encode(_add(0, body)))
    for n in range(max(1, size // one)):
        commands.append(_add(n, body))
    return root


def timed(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size_mb", type=float)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = int(args.size_mb * 1024 * 1024)
    body = (b"Content-Type: text/plain\r\n\r\n" + b"x" * 76 + b"\r\n") * 650  # ~50 KB
    figures: dict[str, float] = {}
    slowest = 0.0
    for shape, tree in (("mime", document(size, body)), ("dense", document(size, None))):
        data = encode(tree)
        assert decode(data, max_elements=LIMIT) == tree
        mb = len(data) / 1024 / 1024
        decode_s = timed(args.runs, lambda data=data: decode(data, max_elements=LIMIT))
        figures[f"{shape}_size_mb"] = mb
        figures[f"{shape}_decode_s"] = decode_s
        figures[f"{shape}_mb_per_s"] = mb / decode_s
        figures[f"{shape}_encode_s"] = timed(args.runs, lambda tree=tree: encode(tree))
        if shape == "dense":
            figures["elements_dense"] = sum(1 for _ in tree.iter())
        slowest = max(slowest, decode_s / mb * 16)
    units = {"_per_s": "MB/s", "_s": "s", "_mb": "MB"}
    for name, value in figures.items():
        unit = next((u for suffix, u in units.items() if name.endswith(suffix)), "")
        shown = f"{value:.0f}" if name.startswith("elements") else f"{value:.3f}"
        print(f"{name}: {shown} {unit}".rstrip())
    ok = slowest < TARGET_S_16MB
    print(
        f"verdict: {'PASS' if ok else 'FAIL'} (the slower shape decodes 16 MB in "
        f"{slowest:.2f} s; target < {TARGET_S_16MB} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
