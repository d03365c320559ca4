"""Serve a WSGI app on a loopback port in a background thread (tests, benchmarks, the demo).

Layer: sandbox. Werkzeug's threaded development server: enough for local use, never production.
Its access log leaves out query strings, which carry codes, states and launch ids.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """Logs method, path and status only: never the query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # No path when the request line was refused (over 64 KB: 414); reading it here raised and the
        # client got no reply at all.
        path = getattr(self, "path", "-").split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command or "-", path, code)


@dataclass
class RunningServer:
    url: str
    port: int
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_in_thread(wsgi_app, host: str = "localhost", port: int = 0) -> RunningServer:
    server = make_server(host, port, wsgi_app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{host}:{server.port}", daemon=True)
    thread.start()
    return RunningServer(f"http://{host}:{server.port}", server.port, server, thread)
