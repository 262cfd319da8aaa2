"""JSON seen the way the integrations' ``CallSpec``s read SDK objects (attribute access), and SSE
events cut from an upstream byte stream with their exact bytes kept for relaying.

Both parse lazily: a sampled-out call (whose attributes nobody reads) never pays for ``json.loads``.
"""

from __future__ import annotations

import json
from typing import Any

MAX_EVENT_BYTES = 8 * 1024 * 1024  # one SSE event larger than this is relayed unparsed
_UNPARSED = object()


def wrap(value: Any) -> Any:
    """A JSON value as the SDKs' response objects would present it."""
    if type(value) is dict:
        return JsonView(value)
    if type(value) is list:
        return [wrap(v) for v in value]
    return value


class JsonView:
    """Attribute access over a JSON object: a missing key reads as None (as an SDK model's unset
    field); private and dunder names are real attribute errors, so ``hasattr(view, "__anext__")``
    and friends answer truthfully."""

    __slots__ = ("_data",)

    def __init__(self, data: Any = _UNPARSED) -> None:
        self._data = data

    def _object(self) -> dict:
        return self._data if type(self._data) is dict else {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return wrap(self._object().get(name))

    @property
    def output_text(self) -> str | None:
        """The Responses API object's joined ``output_text`` parts, as the SDK's property computes it."""
        data = self._object()
        if "output_text" in data or not isinstance(data.get("output"), list):
            return data.get("output_text")
        parts = []
        for item in data["output"]:
            if type(item) is dict and item.get("type") == "message":
                for part in item.get("content") or ():
                    if type(part) is dict and part.get("type") == "output_text":
                        parts.append(part.get("text") or "")
        return "".join(parts)

    def model_dump(self) -> Any:
        """What content capture serialises (``llm.call.messages_json`` calls ``model_dump``)."""
        return self._object()


class LazyJson(JsonView):
    """A JSON document parsed on first attribute access; anything that is not a JSON object reads
    as an empty object."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self._raw = raw

    def _object(self) -> dict:
        if self._data is _UNPARSED:
            try:
                self._data = json.loads(self._raw)
            except (ValueError, RecursionError):
                self._data = None
        return self._data if type(self._data) is dict else {}


class SSEEvent(LazyJson):
    """One server-sent event: ``raw`` is its exact bytes (relayed as they came), its JSON ``data``
    is what the stream observers read."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes, data: bytes) -> None:
        super().__init__(data)
        self.raw = raw


def _boundary(buf: bytes | bytearray, start: int) -> tuple:
    """(end of the first complete event at or after ``start``, or -1; length of its separator)."""
    best, sep = -1, 0
    for marker in (b"\n\n", b"\r\n\r\n", b"\r\r"):
        i = buf.find(marker, start)
        if i != -1 and (best == -1 or i < best):
            best, sep = i, len(marker)
    return best, sep


def _data_of(block: bytes) -> bytes:
    """The ``data:`` field of one event (lines joined by newlines, as the SSE spec says)."""
    lines = []
    for line in block.splitlines():
        if line.startswith(b"data:"):
            value = line[5:]
            lines.append(value[1:] if value.startswith(b" ") else value)
    return b"\n".join(lines)


class SSESplitter:
    """Cuts a byte stream into events as bytes arrive. Past ``MAX_EVENT_BYTES`` without a boundary
    the stream is no longer parsed: what arrives is relayed as unparsed pieces."""

    def __init__(self, max_event: int = MAX_EVENT_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_event
        self.unparsed = False

    def feed(self, data: bytes) -> list:
        if self.unparsed:
            return [SSEEvent(bytes(data), b"")]
        buf = self._buf
        scan = max(0, len(buf) - 3)  # a separator may straddle the previous piece
        buf += data
        events = []
        start = 0
        while True:
            end, sep = _boundary(buf, max(start, scan))
            if end == -1:
                break
            raw = bytes(buf[start:end + sep])
            events.append(SSEEvent(raw, _data_of(raw)))
            start = end + sep
        if start:
            del buf[:start]
        if len(buf) > self._max:
            self.unparsed = True
            events.append(SSEEvent(bytes(buf), b""))
            buf.clear()
        return events

    def close(self) -> list:
        """Whatever is left when the stream ends (an event without its final blank line)."""
        if not self._buf:
            return []
        raw = bytes(self._buf)
        self._buf.clear()
        return [SSEEvent(raw, b"" if self.unparsed else _data_of(raw))]
