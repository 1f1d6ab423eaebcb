"""Exchange ActiveSync accounts: the kind's description (``kind.py``); the backend has
yet to come."""
