"""Exchange ActiveSync accounts: the kind's description (``kind.py``) and the protocol
layer below the commands: WBXML (``wbxml.py`` over the code pages of ``codepages.py``),
HTTP (``http.py``) and the common status codes (``status.py``). The commands and the
backend have yet to come."""
