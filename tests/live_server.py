"""A real HTTP server (uvicorn in a thread, its own event loop) on a free 127.0.0.1 port.

For tests that need real sockets: Schemathesis, the agent, borgmatic, the browser.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from services.api.app import create_app
from services.core.settings import get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(app_database_url: str, **overrides) -> LiveServer:
    port = free_port()
    settings = get_settings().model_copy(update={"app_database_url": app_database_url, "cookie_secure": False,
                                                 "public_url": f"http://127.0.0.1:{port}", **overrides})
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=f"live-server-{port}")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)
