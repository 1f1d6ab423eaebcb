"""A scripted HTTP(S) server on 127.0.0.1 for contract tests of clients of protocols no
local server speaks (ActiveSync 16.x, Exchange's redirects): each request gets the next
scripted answer, and is recorded for the test to check.

    with ReplayServer([Answer(200, {"MS-ASProtocolVersions": "14.1"})]) as server:
        ...client talks to server.url...
    request = server.requests[0]   # method, path, query (in order), headers, body
"""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from tests.servers.ports import LOOPBACK


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = False  # sent without Content-Length, in chunks
    drop: bool = False  # the request is read, then the connection closed without an answer
    delay: float = 0.0  # seconds before answering (a long poll)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


class ReplayServer:
    """Answers in order; a request beyond the script gets HTTP 599 (the test fails on
    the client's error)."""

    def __init__(self, answers: list[Answer], *, cert: tuple[Path, Path] | None = None) -> None:
        self.answers = list(answers)
        self.requests: list[Recorded] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                parts = urlsplit(self.path)
                server.requests.append(
                    Recorded(
                        self.command,
                        parts.path,
                        parse_qsl(parts.query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                answer = server.answers.pop(0) if server.answers else Answer(599)
                if answer.drop:
                    self.close_connection = True
                    return
                time.sleep(answer.delay)
                try:
                    self._answer(answer)
                except OSError:  # the client gave up meanwhile
                    self.close_connection = True

            def _answer(self, answer: Answer) -> None:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for at in range(0, len(answer.body), 65536):
                        piece = answer.body[at : at + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)

            do_POST = do_OPTIONS = do_GET = _serve

        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}/Microsoft-Server-ActiveSync"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
