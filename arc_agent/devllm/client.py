"""Talk to a running dev server's ``/_dev`` endpoints from another process (urllib, no dependency)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, List, Optional
from urllib.parse import urlencode


class DevLLMClient:
    """Read and clear the request log, change settings, check health of the server at ``base_url``."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[:-3]
        self.timeout = timeout

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise RuntimeError(f"dev-llm {method} {path} failed: HTTP {exc.code} {detail}") from None

    def health(self) -> dict:
        return self._call("GET", "/_dev/health")

    def requests(self, path: Optional[str] = None, since: int = 0) -> List[dict]:
        query = {k: v for k, v in (("path", path), ("since", since)) if v}
        return self._call("GET", "/_dev/requests" + (f"?{urlencode(query)}" if query else ""))

    def clear(self) -> int:
        return self._call("DELETE", "/_dev/requests")["cleared"]

    def configure(self, **settings: Any) -> dict:
        return self._call("POST", "/_dev/config", settings)
