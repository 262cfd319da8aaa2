"""``DevLLMServer``: the dev server on a background thread of this process, for tests and demos."""

from __future__ import annotations

import threading
from typing import Any, List, Optional

from .config import DevLLMConfig
from .handler import DevLLMApp, DevLLMHTTPServer


def url_host(host: str) -> str:
    """The host to put in a URL for a bind address (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class DevLLMServer:
    """The dev server on a background thread of this process; ``port=0`` picks a free port.

    ``with DevLLMServer() as srv: OpenAI(base_url=srv.openai_base_url, api_key="dev", max_retries=0)``
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: Optional[DevLLMConfig] = None,
                 *, verbose: bool = False, **settings: Any) -> None:
        config = (config or DevLLMConfig()).updated(settings)
        self.app = DevLLMApp(config, verbose=verbose)
        self._bind = (host, port)
        self._httpd: Optional[DevLLMHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> DevLLMServer:
        if self._httpd is not None:
            return self
        self._httpd = DevLLMHTTPServer(self._bind[0], self._bind[1], self.app)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"arc-dev-llm:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end delays and open connections, and release the port (well under a second)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.app.stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DevLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._bind[0]

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("DevLLMServer is not running; call start() or use it as a context manager")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """Root URL; also the Anthropic SDK's ``base_url``."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    anthropic_base_url = base_url

    @property
    def config(self) -> DevLLMConfig:
        return self.app.config

    def configure(self, **settings: Any) -> DevLLMConfig:
        """Change settings while running (e.g. ``fail_rate=0.5``); restarts the fail_rate count."""
        return self.app.configure(settings)

    def requests(self, path: Optional[str] = None, since: int = 0) -> List[dict]:
        """Requests received so far, oldest first (credential headers read ``REDACTED``)."""
        return self.app.log.snapshot(path, since)

    def clear(self) -> int:
        return self.app.log.clear()
