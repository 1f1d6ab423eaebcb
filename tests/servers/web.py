"""A small HTTP or HTTPS server on 127.0.0.1 serving fixed documents (autoconfig files
for the discovery tests), with the misbehaviours a real web server can show.

    web = WebServer(tls=server_tls)          # or WebServer() for plain HTTP
    web.route("/good.xml", b"<clientConfig …>")
    web.route("/missing", status=404)
    web.route("/slow", hold=True)            # answers nothing until stop()
    web.route("/huge", b"x" * 2**20, length=False)   # no Content-Length, body streamed
    web.start(); web.url("/good.xml")        # https://127.0.0.1:PORT/good.xml
    web.requests                             # paths asked for, in order (GET or POST)

Stdlib `http.server` in a thread; a held request is released when the server stops.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .http_thread import serve_in_thread, stop_serving
from .ports import LOOPBACK
from .tls import TLSFiles


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    hold: bool = False
    length: bool = True  # send Content-Length
    headers: tuple[tuple[str, str], ...] = ()  # more headers (Location, Content-Encoding)


class WebServer:
    def __init__(self, tls: TLSFiles | None = None) -> None:
        self.tls = tls
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        hold: bool = False,
        length: bool = True,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.routes[path] = Route(body, status, hold, length, headers)

    def url(self, path: str) -> str:
        assert self._httpd is not None, "start() first"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{LOOPBACK}:{self._httpd.server_address[1]}{path}"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = urlsplit(self.path).path
                with owner._lock:
                    owner.requests.append(self.path)
                route = owner.routes.get(path, Route(status=404))
                if route.hold:
                    owner._release.wait()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", "application/xml")
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers:
                    self.send_header(name, value)
                self.end_headers()
                try:
                    for start in range(0, len(route.body), 65536):
                        self.wfile.write(route.body[start : start + 65536])
                except OSError:
                    pass  # the client stopped reading (a refused huge body)

            def do_POST(self) -> None:  # noqa: N802 (Autodiscover's POX request)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.cert_path, self.tls.key_path)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = serve_in_thread(self._httpd, "test-web")

    def stop(self) -> None:
        self._release.set()
        httpd, self._httpd = self._httpd, None
        thread, self._thread = self._thread, None
        stop_serving(httpd, thread)

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
