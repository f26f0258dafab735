"""Entra ID's token endpoint and Graph's alerts_v2 on a local HTTP server (127.0.0.1, a free
port): the ``Graph`` stand-in of the pull client's tests, answering real sockets."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from tests.alerts.test_defender_pull import Graph


@contextmanager
def graph_server(alerts: list[dict[str, Any]]) -> Iterator[tuple[str, str, Graph]]:
    """Serve ``alerts`` behind a client-credentials token (secret ``s3cret``); yield the
    token URL, the alerts URL and the ``Graph`` answering them."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    graph = Graph(alerts, alerts_url=f"{base}/v1.0/security/alerts_v2")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = httpx.Request(
                self.command, base + self.path, headers=dict(self.headers.items()),
                content=self.rfile.read(length),
            )  # fmt: skip
            answer = graph(request)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = _answer

        def log_message(self, *_args: Any) -> None:
            return

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/tenant/oauth2/v2.0/token", graph.alerts_url, graph
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
