"""The demo account: realistic mail from a local demo server, no network, no config.

    generate.py  the generated mailbox (folders, threads, new arrivals)
    backend.py   DemoServer (``server.sqlite``) and DemoBackend, the ``Backend`` over it
    kind.py      the ``demo`` kind's description
"""
