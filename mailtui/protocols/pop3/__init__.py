"""POP3 accounts: the kind's description (``kind.py``), the wire client (``client.py``
over ``wire.py``) and the backend (``backend.py``: sessions in ``session.py``, the pull
in ``pull.py``, what is kept on the server in ``policy.py``); see docs/architecture.md."""
