"""Every ``ARC_*`` variable Arc reads: one table, one spelling rule, typed getters with bounds.

Why one module: every reader gets the same answer for the same text (``1/true/yes/on`` is true,
``0/false/no/off`` and the empty string are false, anything else is a bad value), a bad value is
logged once naming the variable and the default is used, and ``arc doctor`` checks the whole
environment against this same table, so what doctor calls bad is exactly what the agent rejects.

The start-up hook imports this module in every process, so it imports only ``os``: no ``typing``,
``logging`` or ``dataclasses`` here (the logger is looked up only when a bad value is logged).
"""

from __future__ import annotations

import os

TRUE = frozenset(("1", "true", "yes", "on"))
FALSE = frozenset(("0", "false", "no", "off", ""))


class Setting:
    """One variable: ``kind`` is float | int | bool | text | path | secret | level | choice."""

    __slots__ = ("name", "kind", "default", "help", "low", "high", "choices")

    def __init__(self, name: str, kind: str, default: object, help: str, low: float | None = None,
                 high: float | None = None, choices: tuple = ()) -> None:
        self.name, self.kind, self.default, self.help = name, kind, default, help
        self.low, self.high, self.choices = low, high, choices


def _s(name, kind, default, help, low=None, high=None, choices=()) -> tuple:
    return name, Setting(name, kind, default, help, low, high, choices)


SETTINGS: dict = dict([
    _s("ARC_DISABLE", "bool", False, "turn Arc off entirely"),
    _s("ARC_DISABLED_INSTRUMENTATIONS", "text", "", "comma-separated integrations not to patch"),
    _s("ARC_LOG_LEVEL", "level", "INFO", "log level of the 'arc' logger"),
    _s("ARC_ENDPOINT", "text", None, "OTLP/gRPC collector (else OTEL_EXPORTER_OTLP_ENDPOINT)"),
    _s("ARC_API_KEY", "secret", None, "bearer token sent to the collector and the control server"),
    _s("ARC_EXPORT_TIMEOUT", "float", 2.0, "seconds per export attempt", 0.01, 600),
    _s("ARC_EXPORT_DELAY_MS", "float", 5000, "batching delay of the span processor (OTel's default)", 1, 600_000),
    _s("ARC_QUEUE_SIZE", "int", 65536, "span processor queue size", 1, 10**8),
    _s("ARC_BUFFER_MAX_BYTES", "int", 64 << 20, "memory buffer for spans during an outage", 0, 2**40),
    _s("ARC_WAL_PATH", "path", None, "disk write-ahead buffer (SQLite) for spans during an outage"),
    _s("ARC_SHUTDOWN_FLUSH_MS", "float", 1500, "longest a stop (signal, exit, worker end) waits for spans to "
       "leave", 0, 600_000),
    _s("ARC_WAL_MAX_BYTES", "int", 256 << 20, "size cap of the WAL", 0, 2**44),
    _s("ARC_SPANS_OFF_THREAD", "bool", True, "make kept spans of Arc's own provider (start, attributes, end) "
       "in a background thread instead of the app's"),
    _s("ARC_BREAKER_MS", "float", 50.0, "breaker opens when Arc's p99 per call exceeds this (0 = off)", 0, 60_000),
    _s("ARC_BREAKER_QUEUE", "int", 50_000, "breaker opens when this many spans wait (0 = off)", 0, 10**9),
    _s("ARC_BREAKER_COOLDOWN_S", "float", 5.0, "seconds the breaker stays open before retrying", 0.05, 3600),
    _s("ARC_SAMPLE_QPS", "float", 0, "above this many calls/s, keep only ARC_SAMPLE_RATE (0 = keep all)",
       0, 10**7),
    _s("ARC_SAMPLE_RATE", "float", 0.1, "share of ordinary spans kept while sampling", 0, 1),
    _s("ARC_PRIVATE_READS", "bool", True, "0 = read no private attribute of a dependency, even on the versions "
       "Arc tested (the public fallbacks run; arc_fast_path_off_total counts them)"),
    _s("ARC_METRICS_PORT", "int", None, "serve Prometheus metrics and status here (0 = any free port)",
       0, 65535),
    _s("ARC_METRICS_HOST", "text", "127.0.0.1", "address the metrics endpoint binds"),
    _s("ARC_METRICS_TOKEN_FILE", "path", None, "token file (0600) the metrics endpoint requires as "
       "'Authorization: Bearer'; needed to bind beyond loopback"),
    _s("ARC_PATTERNS", "text", None,
       "pattern bundle files (os.pathsep-separated; 'demo'; 'registry:NAME[@CHANNEL]')"),
    _s("ARC_REGISTRY", "path", "~/.arc/registry", "artifact registry root (registry:NAME[@CHANNEL] settings)"),
    _s("ARC_FIX_THRESHOLD", "float", 0.5, "minimum pattern confidence for a fix", 0, 1),
    _s("ARC_PATTERNS_MAX_BYTES", "int", 512 << 20, "largest pattern bundle file read", 1, 2**40),
    _s("ARC_READ_TIMEOUT_S", "float", 30.0,
       "seconds reading one pattern bundle/compiled/snapshot, golden or vision model file may take", 0, 86400),
    _s("ARC_HOME", "path", "~/.arc", "Arc's private per-user folder (pattern snapshot key)"),
    _s("ARC_PATTERNS_POLL", "float", 2.0, "seconds between bundle file checks (0 = no reload)", 0, 86400),
    _s("ARC_PATTERNS_WAIT_MS", "float", 0, "how long the first calls may wait for a pattern set still loading",
       0, 600_000),
    _s("ARC_PRIVACY_MODE", "choice", "minimal", "what UI-action spans may carry",
       choices=("minimal", "hash_only", "local_inference", "full_data")),
    _s("ARC_BLOB_DIR", "path", ".arc/blobs", "where full_data screenshots go"),
    _s("ARC_HEAL", "bool", True, "heal broken UI selectors"),
    _s("ARC_HEAL_MIN_SCORE", "float", 0.6, "minimum fingerprint score to heal", 0, 1),
    _s("ARC_HEAL_TIMEOUT_MS", "int", 5000, "time healing may add to one action", 0, 600_000),
    _s("ARC_HEAL_FIND_ELEMENTS", "bool", False,
       "heal an empty Selenium find_elements from the fingerprint (off: an empty list is a normal answer)"),
    _s("ARC_VISION_THRESHOLD", "float", 0.7, "vision tools run below this confidence", 0, 1),
    _s("ARC_VISION_WAIT_MS", "int", 2000, "bound of one 'wait' tool run", 0, 600_000),
    _s("ARC_VISION_MODEL_DIR", "path", None, "confidence model folder"),
    _s("ARC_VISION_POLICY_DIR", "path", None, "ONNX tool policy folder"),
    _s("ARC_VISION_POLICY", "text", None, "tool policy: registry:NAME[@CHANNEL] or a folder (wins over _DIR)"),
    _s("ARC_VISION_POLICY_CANARY", "float", 0.0, "share of UI actions sent to the policy's canary version", 0, 1),
    _s("ARC_CAPTURE", "path", None, "record intercepted LLM calls into this cassette file (JSON Lines, 0600)"),
    _s("ARC_CAPTURE_RATE", "float", 0.05, "share of successful calls captured (1 = every call)", 0, 1),
    _s("ARC_CAPTURE_FAILURE_RATE", "float", 1.0, "share of failed calls captured", 0, 1),
    _s("ARC_CAPTURE_MAX_BYTES", "int", 64 << 20, "size cap of the cassette and its one rotated file together",
       1024, 2**40),
    _s("ARC_STORE", "path", "~/.arc/store", "chDB store folder of the embedded collector"),
    _s("ARC_QUERY_URL", "text", None, "read endpoint of a running collector"),
    _s("ARC_COLLECTOR_LISTEN", "text", "127.0.0.1:4317", "address of 'arc collector'"),
    _s("ARC_DDL_DIR", "path", None, "ClickHouse DDL folder override"),
    _s("ARC_SIDECAR", "text", None, "unix:///path or http://host:port of 'arc proxy': SDK calls go through it"),
    _s("ARC_SIDECAR_TOKEN_FILE", "path", None, "token the side-car requires (Proxy-Authorization)"),
    _s("ARC_CONTROL_ENDPOINT", "text", None, "control server (grpc://host:port, grpcs://host:port) to follow"),
    _s("ARC_CONTROL_CA", "path", None, "CA certificate of the control server (TLS)"),
    _s("ARC_TRUST_KEY", "text", None, "Ed25519 public key (base64, or a PEM file) control-plane artifacts "
       "must be signed with"),
    _s("ARC_INSTANCE_ID", "text", None, "this agent's id in the fleet and for the canary share (default host-pid)"),
    _s("ARC_CONTROL_REPORT_S", "float", 30.0, "seconds between status reports to the control server", 0.5, 3600),
    _s("ARC_SERVE_KEYS", "path", None, "API key file of 'arc serve' (TENANT KEY lines)"),
    _s("ARC_PATTERNS_SNAPSHOT", "text", None,
       "'off', or the folder for pattern load snapshots (default: the user cache)"),
    _s("ARC_VISION_FAST_PATHS_OFF", "text", "", "fast paths on Playwright/Selenium internals to leave off "
       "(comma-separated names, or 'all')"),
    _s("ARC_QUERY_TOKEN", "secret", None, "token for ARC_QUERY_URL (else read from the store's collector.json)"),
    _s("ARC_CLICKHOUSE_PASSWORD", "secret", None, "password for a --clickhouse URL of a learning job that has "
       "none (keeps it off command lines and Ray's job table)"),
    _s("ARC_COLLECTOR_AUTH_TOKEN_FILE", "path", None, "token file OTLP senders to 'arc collector' must present"),
    _s("ARC_REPLAY_BASE_URL", "text", None, "base URL 'arc replay' and its pytest plugin send to"),
    _s("ARC_DEVLLM_HOST", "text", "127.0.0.1", "address 'arc dev-llm' binds"),
    _s("ARC_DEVLLM_PORT", "int", None, "port of 'arc dev-llm'", 0, 65535),
])

# families of variables whose members a component defines itself (``arc dev-llm``: one per config field)
PREFIXES = {"ARC_DEVLLM_": "an 'arc dev-llm' server knob, checked by 'arc dev-llm'"}


class BadValue(ValueError):
    """``str(exc)`` says what is wrong with the value, e.g. 'is not a number'."""


def boolean(raw: str) -> bool | None:
    """The one spelling rule: True, False, or None when ``raw`` is neither."""
    low = raw.strip().lower()
    return True if low in TRUE else False if low in FALSE else None


def parse(setting: Setting, raw: str) -> object:
    """The value of ``raw`` for ``setting``; BadValue names the problem."""
    kind = setting.kind
    text = raw.strip()
    if kind in ("float", "int"):
        try:
            value = float(text) if kind == "float" else int(text)
        except ValueError:
            raise BadValue("is not " + ("a number" if kind == "float" else "an integer")) from None
        if value != value or (setting.low is not None and value < setting.low) or \
                (setting.high is not None and value > setting.high):
            raise BadValue(f"is outside [{setting.low:g}, {setting.high:g}]")
        return value
    if kind == "bool":
        flag = boolean(text)
        if flag is None:
            raise BadValue("is not one of 1/0/true/false/yes/no/on/off")
        return flag
    if kind == "level":
        if text.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise BadValue("is not a log level (DEBUG, INFO, WARNING, ERROR)")
        return text.upper()
    if kind == "choice":
        if text.lower() not in setting.choices:
            raise BadValue("is not one of " + "|".join(setting.choices))
        return text.lower()
    return raw


_logged: set = set()


def shown(setting: Setting, raw: str) -> str:
    """``raw`` as it may appear in a log: a secret, or anything with ``user:password@``, is not echoed."""
    return "(set, hidden)" if setting.kind == "secret" or "@" in raw else repr(raw)


def value(name: str, environ: object = None) -> object:
    """The validated value of ``name`` from ``environ`` (default ``os.environ``); unset, blank (but for
    a flag) or bad: the default, a bad value logged once naming the variable."""
    setting = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or (raw.strip() == "" and setting.kind != "bool"):
        return setting.default
    try:
        return parse(setting, raw)
    except BadValue as exc:
        if (name, raw) not in _logged:
            _logged.add((name, raw))
            import logging

            logging.getLogger("arc").error("arc: %s=%s %s; using the default (%s)", name, shown(setting, raw), exc,
                                           "unset" if setting.default is None else setting.default)
        return setting.default


def flag(name: str, environ: object = None) -> bool:
    return bool(value(name, environ))


def number(name: str, environ: object = None) -> float | None:
    found = value(name, environ)
    return None if found is None else float(found)


def integer(name: str, environ: object = None) -> int | None:
    found = value(name, environ)
    return None if found is None else int(found)


def text(name: str, environ: object = None) -> str | None:
    """A text/path/secret setting, stripped; blank means the default."""
    found = value(name, environ)
    return found.strip() if isinstance(found, str) else found


def is_set(name: str, environ: object = None) -> bool:
    """Whether ``name`` has a non-blank value (e.g. to prefer it over an ``OTEL_*`` variable)."""
    return bool(((os.environ if environ is None else environ).get(name) or "").strip())
