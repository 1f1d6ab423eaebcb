"""Serving a test HTTP server (oauth.py, authorization.py, web.py) in a thread of its own."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


def serve_in_thread(
    httpd: ThreadingHTTPServer, name: str, poll_interval: float = 0.5
) -> threading.Thread:
    """Start serving `httpd` in a daemon thread (its requests in daemon threads too).
    `poll_interval` is how long `stop_serving` may wait for the loop to notice."""
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, args=(poll_interval,), name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(httpd: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    """Stop the loop that `serve_in_thread` started, close the socket, join the thread."""
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()
    if thread is not None:
        thread.join(5)
