"""Fixtures shared by the unit tests."""

from tests.unit.keyrings import keyring_backend, memory_keyring

__all__ = ["keyring_backend", "memory_keyring"]
