"""What became of a call (``arc.outcome``) and the provider's error facts, for learning from failures.

The integrations read their own response shapes (finish reasons, refusals, text) and call
``classify``; a failed call's exception is read here through the SDKs' public error attributes
(``status_code``, ``code``, ``param``, ``type``, ``body``). Only names and codes leave: never content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..telemetry import attributes as A

OK = "ok"
HTTP_ERROR = "http_error"
TRUNCATED = "truncated"
INVALID_JSON = "invalid_json"
EMPTY = "empty"
REFUSED = "refused"
APP_REPORTED = "app_reported"
FAILURES = frozenset({HTTP_ERROR, TRUNCATED, INVALID_JSON, EMPTY, REFUSED, APP_REPORTED})

_LEADING_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_.]{0,63}):\s")  # "max_tokens: 8192 > 4096, ..."


def classify(refused: bool, truncated: bool, has_output: bool, json_ok: bool = True) -> str:
    """One outcome, the root cause first: a refusal or a cut reply explains an empty or broken one.
    ``json_ok`` is False only when JSON was asked for and the reply does not parse."""
    if refused:
        return REFUSED
    if truncated:
        return TRUNCATED
    if not has_output:
        return EMPTY
    if not json_ok:
        return INVALID_JSON
    return OK


def parses(text: str | None) -> bool:
    if text is None:
        return False
    try:
        json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def error_facts(exc: BaseException, params: Any = ()) -> tuple:
    """(status, code, param, type) of a provider error, each None when the exception does not say.

    Anthropic names no ``param``: its messages start with the parameter ("max_tokens: 8192 > 4096"),
    taken only when it is one of the request's own parameter names (``params``)."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or isinstance(status, bool):
        status = None
    code, param, etype = _str(getattr(exc, "code", None)), _str(getattr(exc, "param", None)), \
        _str(getattr(exc, "type", None))
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, Mapping):
        err = body.get("error")
        err = err if isinstance(err, Mapping) else body
        code = code or _str(err.get("code"))
        param = param or _str(err.get("param"))
        etype = etype or _str(err.get("type"))
        message = _str(err.get("message"))
    if param is None and message is not None and params:
        m = _LEADING_PARAM.match(message)
        if m and m.group(1) in params:
            param = m.group(1)
    return status, code, param, etype


def error_attributes(exc: BaseException, params: Any = ()) -> dict:
    status, code, param, etype = error_facts(exc, params)
    attrs: dict = {A.ARC_OUTCOME: HTTP_ERROR}
    if status is not None:
        attrs[A.HTTP_RESPONSE_STATUS_CODE] = status
    if code is not None:
        attrs[A.ARC_ERROR_CODE] = code
    if param is not None:
        attrs[A.ARC_ERROR_PARAM] = param
    if etype is not None:
        attrs[A.ARC_ERROR_TYPE] = etype
    return attrs
