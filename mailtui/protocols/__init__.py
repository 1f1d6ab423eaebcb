"""Protocol backends: each speaks one protocol for one account and never imports the store.

``net/``: what every protocol shares (connecting, TLS trust, SASL, credentials, the line
reader). ``imap/``: IMAP4rev1 (+ CONDSTORE/QRESYNC, IDLE, MOVE, UIDPLUS, SPECIAL-USE), see
``mailtui.protocols.imap``. ``smtp.py``: sending, driven by ``mailtui.sync.outbox``.
Each package describes its account kind in ``kind.py``; ``kinds.py`` lists them.
"""
