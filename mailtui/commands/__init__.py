"""The headless commands of ``mailtui``: ``sync``, ``export`` and ``send`` (``mailtui.cli``
parses the arguments and runs one). They reuse the store and sync workers of the UI and
never import Textual (``tests/unit/test_boundaries.py`` checks it)."""
