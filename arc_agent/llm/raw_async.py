"""An async client's ``with_raw_response`` result whose ``parse()`` is a coroutine (anthropic 2.x's
``AsyncAPIResponse``; LangChain's ``ChatAnthropic.ainvoke`` calls it this way). Arc cannot parse it
without awaiting on the app's behalf, so the call is recorded when the app awaits ``parse()``; a
response never parsed ends the call, status only, when it is collected."""

from __future__ import annotations

from typing import Any, Callable

import wrapt

# record(parsed or None, exception or None): describes and finishes the call once (call.py)
Record = Callable[[Any, "BaseException | None"], None]


class AsyncRawResponse(wrapt.ObjectProxy):
    def __init__(self, response: Any, record: Record) -> None:
        super().__init__(response)
        self._self_record = record

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            parsed = await self.__wrapped__.parse(*args, **kwargs)
        except Exception as exc:  # a parse helper refused the reply: the app sees it raised, the span too
            self._self_record(None, exc)
            raise
        self._self_record(None if args or kwargs else parsed, None)  # parse(to=...): another type
        return parsed

    def __del__(self) -> None:
        self._self_record(None, None)
