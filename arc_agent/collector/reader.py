"""Read spans from Python: ``query(sql) -> list[dict]`` against a collector, a ClickHouse server, or a store.

Where the query goes:
- ``url=`` — any ClickHouse HTTP endpoint: ``arc collector``'s query endpoint or a real server's;
- ``store=`` — a chDB store folder: through the collector that owns it if one runs (its
  ``collector.json``), else opened directly in this process (chDB: one process per store);
- neither — ``ARC_QUERY_URL`` if set, else the default store (``ARC_STORE`` or ``~/.arc/store``);
- both — the query goes to ``url``; ``store`` only says where its ``collector.json`` is.

The collector's endpoint wants its token: taken from the URL's password if it has one, else
``ARC_QUERY_TOKEN``, else the ``collector.json`` of the store (or default store) whose collector
serves that URL. Over HTTPS the certificate named there (``tls_cert``) is trusted for that URL.

Rows come back as dicts with ClickHouse's JSON types, except that 64-bit integers (quoted in
ClickHouse JSON) are returned as ``int``.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from arc_agent import settings
from arc_agent.collector import discovery
from arc_agent.collector.store import default_store_path

_WIRE_FORMAT = "JSONCompactEachRowWithNamesAndTypes"
_BIG_INTS = ("Int64", "UInt64", "Int128", "UInt128", "Int256", "UInt256")
_direct_stores: dict = {}
_direct_lock = threading.Lock()
_SINCE = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class QueryError(RuntimeError):
    pass


def since_seconds(text: str) -> int:
    """Seconds of a ``--since`` look-back (``30m``, ``7d``, ``2w``, ``3600``); ValueError naming it otherwise."""
    match = _SINCE.match(text.strip().lower())
    if not match:
        raise ValueError(f"--since {text!r}: expected a number of seconds or a number and a unit s/m/h/d/w, e.g. 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _unwrap(ch_type: str) -> str:
    """``LowCardinality(Nullable(UInt64))`` -> ``UInt64``."""
    while ch_type.startswith(("Nullable(", "LowCardinality(")):
        ch_type = ch_type[ch_type.index("(") + 1:-1]
    return ch_type


def parse_rows(text: str) -> list:
    """Parse ``JSONCompactEachRowWithNamesAndTypes`` output into dicts, 64-bit ints as ``int``."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    names = json.loads(lines[0])
    types = [_unwrap(t) for t in json.loads(lines[1])] if len(lines) > 1 else []
    big = [i for i, t in enumerate(types) if t in _BIG_INTS]
    rows = []
    for line in lines[2:]:
        values = json.loads(line)
        for i in big:
            if isinstance(values[i], str):
                values[i] = int(values[i])
        rows.append(dict(zip(names, values)))
    return rows


def _check_url(url: str) -> urllib.parse.SplitResult:
    """``url`` split, or a QueryError naming what is wrong (a user's typo is no traceback); the
    message never shows a password written in the URL."""
    shown = url if "@" not in url else url.partition("://")[0] + "://***@" + url.rpartition("@")[2]
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise QueryError(f"bad URL {shown!r}: expected http://host:port or https://host:port "
                         "(a collector's query endpoint or a ClickHouse HTTP endpoint)")
    return parts


def _credentials(url: str) -> tuple:
    """``http://user:pass@host:8123`` -> (URL without them, ClickHouse auth headers)."""
    parts = _check_url(url)
    if not parts.username:
        return url, {}
    headers = {"X-ClickHouse-User": urllib.parse.unquote(parts.username)}
    if parts.password:
        headers["X-ClickHouse-Key"] = urllib.parse.unquote(parts.password)
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), headers


def _discovered(url: str, store: str | os.PathLike | None = None) -> dict:
    """The ``collector.json`` (of ``store``, the default store or ``~/.arc``) whose collector serves ``url``."""
    wanted = url.rstrip("/")
    folders = [Path(os.path.expanduser(str(store)))] if store is not None else []
    for folder in [*folders, default_store_path(), None]:
        info = discovery.read_state(discovery.state_path(folder))
        if info and str(info.get("query", "")).rstrip("/") == wanted:
            return info
    return {}


def auth_for(url: str, store: str | os.PathLike | None = None) -> dict:
    """``{"token": ..., "tls_cert": ...}`` for ``url`` (see the module docstring), missing keys when unknown."""
    info = _discovered(url, store)
    found = {k: info[k] for k in ("token", "tls_cert") if info.get(k)}
    if settings.text("ARC_QUERY_TOKEN"):
        found["token"] = settings.text("ARC_QUERY_TOKEN")
    if urllib.parse.urlsplit(url).password:  # the URL's own password is the credential
        found.pop("token", None)
    return found


def http_query(url: str, sql: str, fmt: str | None = None, timeout: float = 60.0, *, token: str | None = None,
               cafile: str | None = None) -> bytes:
    """Run ``sql`` on a ClickHouse HTTP endpoint; ``fmt`` is sent as ``default_format``.
    Credentials in the URL (or ``token``) go in headers and never into error messages."""
    url, headers = _credentials(url)
    if token and not headers:
        headers["Authorization"] = f"Bearer {token}"
    params = {"default_format": fmt} if fmt else {}
    target = url.rstrip("/") + "/" + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(target, data=sql.encode("utf-8"), method="POST", headers=headers)
    context = ssl.create_default_context(cafile=cafile) if cafile and url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        raise QueryError(f"{url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise QueryError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def direct_store(path: Path):
    """This process's own connection to a store no collector owns (opened once, reused)."""
    from arc_agent.collector.store import ChdbStore, StoreError

    key = str(path.resolve())
    with _direct_lock:
        if key not in _direct_stores:
            if not path.is_dir():
                raise QueryError(f"no store at {path} (is `arc collector` running elsewhere? pass --url or --store)")
            try:
                _direct_stores[key] = ChdbStore(path)
            except StoreError as exc:
                raise QueryError(str(exc)) from None
        return _direct_stores[key]


def resolve(url: str | None = None, store: str | os.PathLike | None = None) -> tuple:
    """``("url", address)`` or ``("store", Path)`` for the given or default target."""
    if url:
        return "url", url
    if store is None and settings.text("ARC_QUERY_URL"):
        return "url", settings.text("ARC_QUERY_URL")
    path = Path(os.path.expanduser(str(store))) if store is not None else default_store_path()
    running = discovery.read_state(discovery.state_path(path))
    if running and running.get("query", "off") != "off":
        return "url", running["query"]
    return "store", path


def query_bytes(sql: str, fmt: str = "TabSeparated", *, url: str | None = None,
                store: str | os.PathLike | None = None, token: str | None = None) -> bytes:
    """Raw output of ``sql`` (its own FORMAT clause wins over ``fmt``)."""
    from arc_agent.collector.sqlguard import RefusedQuery
    from arc_agent.collector.store import StoreError

    kind, target = resolve(url, store)
    if kind == "url":
        auth = auth_for(target, store)
        return http_query(target, sql, fmt, token=token or auth.get("token"), cafile=auth.get("tls_cert"))
    try:
        return direct_store(target).query(sql, fmt)
    except RefusedQuery as exc:
        raise QueryError(f"Refused: {exc}") from None
    except StoreError as exc:
        raise QueryError(str(exc)) from None


def query(sql: str, *, url: str | None = None, store: str | os.PathLike | None = None,
          token: str | None = None) -> list:
    """Rows of a SELECT as dicts. Do not add a FORMAT clause: the reader picks its own.
    ``token`` overrides the one found for ``url`` (see the module docstring)."""
    return parse_rows(query_bytes(sql, _WIRE_FORMAT, url=url, store=store, token=token).decode("utf-8"))
