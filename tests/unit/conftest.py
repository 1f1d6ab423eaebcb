"""Fixtures shared by the unit tests."""

from tests.unit.keyrings import memory_keyring

__all__ = ["memory_keyring"]
