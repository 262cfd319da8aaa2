"""Stream proxies: observe chunks as the app consumes them and finish the call exactly once.

Ends on exhaustion, error, ``close()``, context-manager exit, early ``break`` (via close/GC) or
garbage collection of an unfinished stream. No OTel context is held attached across yields, so
closing an async stream from another task cannot produce "Failed to detach context".
"""

from __future__ import annotations

import inspect
from time import perf_counter_ns
from typing import Any, Protocol

import wrapt

from .. import failopen


class StreamedCall(Protocol):
    """What a stream proxy needs of the call it finishes (``call.LLMCall``): call.py imports this
    module, never the other way."""

    done: bool
    first_chunk_ns: int
    arc_ns: int
    resumed: int
    outcome: str | None

    def set(self, attrs: dict) -> None: ...

    def finish(self, exc: BaseException | None = None) -> None: ...


class StreamObserver:
    """Accumulates response facts from chunks; ``attributes()`` gives the final span attributes,
    ``outcome()`` the call's ``arc.outcome`` at stream end (None: not known)."""

    json_kind = "text"  # the response format asked for; set by wrap_stream (text is collected only for JSON)

    def on_chunk(self, chunk: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def attributes(self) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def outcome(self) -> str | None:
        return None


def _observe(call: StreamedCall, observer: StreamObserver, chunk: Any) -> None:
    t = perf_counter_ns()
    try:
        if not call.first_chunk_ns:
            call.first_chunk_ns = t
        observer.on_chunk(chunk)
    except Exception as exc:
        failopen.record("stream_chunk", exc)
    call.arc_ns += perf_counter_ns() - t


def finish_stream(call: StreamedCall, observer: StreamObserver, exc: BaseException | None = None) -> None:
    if call.done:
        return
    try:
        call.resumed = perf_counter_ns()
        call.set(observer.attributes())
        if exc is None:
            call.outcome = observer.outcome()
        call.finish(exc)
    except Exception as inner:
        failopen.record("stream_finish", inner)


def _resume_app(call: StreamedCall) -> None:
    """The app has control again: stop adding to the call's Arc time."""
    if call.resumed:
        call.arc_ns += perf_counter_ns() - call.resumed
        call.resumed = 0


class _StreamProxy(wrapt.ObjectProxy):
    """A stream and the call it finishes; one collected unfinished ends the call."""

    def __init__(self, stream: Any, call: StreamedCall, observer: StreamObserver) -> None:
        super().__init__(stream)
        self._self_call = call
        self._self_observer = observer

    def __del__(self) -> None:
        finish_stream(self._self_call, self._self_observer)


class SyncStreamProxy(_StreamProxy):
    def __iter__(self):
        return self

    def __next__(self):
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            finish_stream(self._self_call, self._self_observer)
            raise
        except BaseException as exc:
            finish_stream(self._self_call, self._self_observer, exc)
            raise
        _observe(self._self_call, self._self_observer, chunk)
        return chunk

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            finish_stream(self._self_call, self._self_observer)

    def __enter__(self):
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, self._self_observer, exc)


class AsyncStreamProxy(_StreamProxy):
    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            finish_stream(self._self_call, self._self_observer)
            raise
        except BaseException as exc:
            finish_stream(self._self_call, self._self_observer, exc)
            raise
        _observe(self._self_call, self._self_observer, chunk)
        return chunk

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            finish_stream(self._self_call, self._self_observer)

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self):
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            finish_stream(self._self_call, self._self_observer, exc)


def wrap_stream(stream: Any, call: StreamedCall, observer: StreamObserver) -> Any:
    proxy_cls = AsyncStreamProxy if hasattr(stream, "__anext__") else SyncStreamProxy
    observer.json_kind = call.json_kind
    proxy = proxy_cls(stream, call, observer)
    _resume_app(call)
    return proxy


class RawStreamResponse(wrapt.ObjectProxy):
    """A streamed call's ``with_raw_response`` result (LangChain's ChatAnthropic streams this way):
    its ``parse()`` gives the stream, observed like any other; a response never parsed ends the call
    when it is collected."""

    def __init__(self, response: Any, call: StreamedCall, observer: StreamObserver) -> None:
        super().__init__(response)
        self._self_call = call
        self._self_observer = observer
        self._self_stream = None
        _resume_app(call)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        stream = self.__wrapped__.parse(*args, **kwargs)
        if args or kwargs:  # parse(to=...): another type, not the stream
            return stream
        if inspect.iscoroutine(stream):  # an async client's response (anthropic 2.x): parse() is async
            return self._parsed_later(stream)
        return self._observed(stream)

    async def _parsed_later(self, parsing: Any) -> Any:
        return self._observed(await parsing)

    def _observed(self, stream: Any) -> Any:
        proxy = self._self_stream
        if proxy is None or proxy.__wrapped__ is not stream:  # the SDK caches its parse: so does Arc
            proxy = self._self_stream = wrap_stream(stream, self._self_call, self._self_observer)
        return proxy

    def __del__(self) -> None:
        if self._self_stream is None:
            finish_stream(self._self_call, self._self_observer)
