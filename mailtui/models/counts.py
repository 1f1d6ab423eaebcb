"""A number with its noun, in the singular for one: "1 folder", "2,000 folders"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, the plural (``noun + "s"`` unless given) for any n but 1."""
    return f"1 {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"
