"""POP3 accounts: the kind's description (``kind.py``); the backend has yet to come."""
