"""Protocol backends: each speaks one protocol for one account and never imports the store.

``net/``: what every protocol shares (connecting, TLS trust, SASL, credentials, the line
reader). ``imap/``: IMAP4rev1 (+ CONDSTORE/QRESYNC, IDLE, MOVE, UIDPLUS, SPECIAL-USE), see
``mailtui.protocols.imap``. ``smtp.py``: sending, driven by ``mailtui.sync.outbox``.
The registry (``mailtui.sync.registry``) maps account kinds to the builders here.
"""
