"""POP3 accounts: the kind's description (``kind.py``) and the wire client
(``client.py`` over ``wire.py``). The backend (UIDL bookkeeping in the store, download
options, deletes after the local commit) builds on the client; see docs/architecture.md."""
