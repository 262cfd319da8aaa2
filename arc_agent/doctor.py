"""``arc doctor``: Arc's view of this environment, and of a running agent, readable in ten seconds.

Checks: on/off switch, installed target libraries against each integration's supported range,
every ARC_* setting in force (bad values and unknown names flagged, secrets never shown), the
collector endpoint (gRPC connect + an empty OTLP export, short timeout), the span store (a running
collector's query endpoint or the chDB folder) and, with ``--url`` or ``ARC_METRICS_PORT``, the
running agent's ``/arc/runtime/status``. Exit code 1 only for misconfiguration (BAD); a warning
(no collector running yet, a library version Arc does not support, ...) keeps it 0.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import urllib.error
import urllib.request

from .telemetry.endpoint import redact

OK, WARN, BAD, INFO = "ok", "warn", "BAD", "  "


class Report:
    def __init__(self, out=sys.stdout) -> None:
        self.out = out
        self.problems: list = []  # BAD and warn lines
        self.bad: list = []  # BAD only: real misconfiguration, exit code 1

    def section(self, title: str) -> None:
        self.out.write(f"\n{title}\n")

    def line(self, mark: str, text: str) -> None:
        text = redact(text)  # a URL with credentials (a setting, an error message) shows as ***@
        self.out.write(f"  {mark:4} {text}\n")
        if mark in (BAD, WARN):
            self.problems.append(text)
        if mark == BAD:
            self.bad.append(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="a running agent's metrics address, e.g. http://127.0.0.1:9464 "
                                      "(default: http://127.0.0.1:$ARC_METRICS_PORT when set)")
    parser.add_argument("--timeout", type=float, default=1.5, help="seconds per network check (default 1.5)")
    parser.add_argument("--json", action="store_true", help="print the running agent's status as JSON only")


def run(args) -> int:
    if args.json:
        url = _status_url(args.url)
        if url is None:
            sys.stderr.write("arc doctor: --json needs --url or ARC_METRICS_PORT\n")
            return 2
        try:
            sys.stdout.write(json.dumps(_fetch_status(url, args.timeout), indent=1) + "\n")
            return 0
        except Exception as exc:
            sys.stderr.write(f"arc doctor: {url}: {_reason(exc)}\n")
            return 1
    from . import __version__

    rep = Report()
    rep.out.write(f"Arc Runtime {__version__} · Python {sys.version.split()[0]} · {sys.executable}\n")
    check_switch(rep)
    check_extras(rep)
    check_libraries(rep)
    check_settings(rep)
    check_vision(rep)
    check_exporter(rep, args.timeout)
    check_store(rep, args.timeout)
    check_control(rep, args.timeout)
    check_agent(rep, args.url, args.timeout)
    if rep.bad:
        rep.out.write(f"\n{len(rep.bad)} misconfiguration(s) to fix (marked BAD above)"
                      + (f", {len(rep.problems) - len(rep.bad)} warning(s).\n" if len(rep.problems) > len(rep.bad)
                         else ".\n"))
    elif rep.problems:
        rep.out.write(f"\nNothing misconfigured; {len(rep.problems)} warning(s) (marked warn above).\n")
    else:
        rep.out.write("\nAll good.\n")
    return 1 if rep.bad else 0  # warnings (no collector running yet, ...) are not a failure


# -- sections -------------------------------------------------------------------------------------
def check_switch(rep: Report) -> None:
    from .hook import disabled_by_env, disabled_integrations

    rep.section("Switch")
    if disabled_by_env():
        rep.line(WARN, f"Arc is OFF (ARC_DISABLE={os.environ.get('ARC_DISABLE')!r}): nothing is patched")
    else:
        rep.line(OK, "Arc is on (ARC_DISABLE not set)")
    off = disabled_integrations()
    if off:
        rep.line(INFO, "disabled integrations: " + ", ".join(sorted(off)))


def check_extras(rep: Report) -> None:
    from .extras import EXTRAS, install_hint, missing

    rep.section("Optional extras (what `arc` commands need)")
    for extra, (_, needed_by) in EXTRAS.items():
        gone = missing(extra)
        if gone:
            rep.line("-", f"{extra:10} not installed ({', '.join(gone)} missing): {install_hint(extra)} "
                          f"for {needed_by}")
        else:
            rep.line(OK, f"{extra:10} installed: {needed_by}")


def check_libraries(rep: Report) -> None:
    from .extras import install_hint, missing
    from .hook import disabled_integrations
    from .instrumentation import INTEGRATIONS, integration_module
    from .instrumentation.base import installed_version, is_supported

    rep.section("Libraries Arc instruments")
    off = disabled_integrations()
    for name in INTEGRATIONS:
        try:
            module = importlib.import_module(integration_module(name))
        except Exception as exc:
            rep.line(BAD, f"{name:11} integration module does not load: {exc!r}")
            continue
        low, high = module.SUPPORTED
        version = installed_version(module.DISTRIBUTION)
        wanted = f"supported >={low},<{high}"
        if version is None:
            rep.line("-", f"{module.DISTRIBUTION:11} not installed")
        elif name in off:
            rep.line("-", f"{module.DISTRIBUTION:11} {version:10} disabled by ARC_DISABLED_INSTRUMENTATIONS")
        elif not is_supported(version, module.SUPPORTED):
            rep.line(WARN, f"{module.DISTRIBUTION:11} {version:10} NOT supported ({wanted}): left unpatched")
        elif getattr(module, "NEEDS_EXTRA", None) and missing(module.NEEDS_EXTRA):
            rep.line(WARN, f"{module.DISTRIBUTION:11} {version:10} left unpatched: the {module.NEEDS_EXTRA} extra is "
                           f"not installed ({install_hint(module.NEEDS_EXTRA)})")
        else:
            rep.line(OK, f"{module.DISTRIBUTION:11} {version:10} {wanted}")


def check_settings(rep: Report) -> None:
    from .settings import PREFIXES, SETTINGS, BadValue, parse

    rep.section("Settings (ARC_* in force; the rest are defaults)")
    found = sorted(k for k in os.environ if k.startswith("ARC_"))
    if not found:
        rep.line(INFO, "none set")
    for name in found:
        raw = os.environ[name]
        setting = SETTINGS.get(name)
        family = next((help for prefix, help in PREFIXES.items() if name.startswith(prefix)), None)
        if setting is None and family is not None:
            rep.line(INFO, f"{name} is set ({family})")
            continue
        if setting is None:
            rep.line(WARN, f"{name} is not a setting Arc knows (typo?)")
            continue
        shown = "(set, hidden)" if setting.kind == "secret" else repr(redact(raw))  # URL credentials
        try:
            parse(setting, raw)
        except BadValue as exc:
            default = "unset" if setting.default is None else setting.default
            rep.line(BAD, f"{name}={shown} {exc}; the default ({default}) is used")
            continue
        rep.line(OK, f"{name}={shown}  ({setting.help})")


def check_vision(rep: Report) -> None:
    """The UI tool policy / confidence model the settings name, loaded as the agent would."""
    if not any(os.environ.get(k) for k in ("ARC_VISION_POLICY", "ARC_VISION_POLICY_DIR", "ARC_VISION_MODEL_DIR",
                                           "ARC_VISION_POLICY_CANARY")):
        return
    try:
        from .vision.status import artifact_checks

        checks = artifact_checks()
    except Exception as exc:  # e.g. the vision extra (onnxruntime, numpy) is not installed
        checks = [("warn", f"cannot check the vision artifacts: {exc!r}")]
    rep.section("UI tool policy and confidence model")
    for mark, text in checks:
        rep.line({"ok": OK, "warn": WARN, "bad": BAD}[mark], text)


def check_exporter(rep: Report, timeout: float) -> None:
    from .telemetry.endpoint import EndpointError, resolve

    rep.section("Collector (where spans go)")
    from .telemetry import exporters

    names = exporters.requested()
    for name in names:
        if name not in (exporters.OTLP, exporters.CONSOLE) and exporters.entry_point(name) is None:
            rep.line(WARN, f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console, none or an "
                           "installed one); ignored")
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or not exporters.sends_otlp(names):
        shown = "OTEL_SDK_DISABLED=true" if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" \
            else f"OTEL_TRACES_EXPORTER={','.join(names) or 'none'}"
        rep.line(INFO, f"{shown}: Arc's own spans are not sent to a collector (an app's own TracerProvider, "
                       "if it has one, decides for itself)")
        return
    try:
        endpoint = resolve()
    except EndpointError as exc:
        rep.line(BAD, f"bad endpoint setting: {exc}")
        return
    where = endpoint.describe()
    extras = []
    if endpoint.headers:
        extras.append(f"{len(endpoint.headers)} header(s), values hidden")
    if endpoint.ca_file:
        extras.append(f"CA {endpoint.ca_file}")
    suffix = f" ({'; '.join(extras)})" if extras else ""
    ok, detail = probe_exporter(endpoint, timeout)
    if ok:
        rep.line(OK, f"{where}{suffix}: {detail}")
    elif detail.startswith("UNREACHABLE"):  # nothing listens (yet): spans wait in memory/WAL, not an error
        rep.line(WARN, f"{where}{suffix}: {detail}; no collector is running there. Start one with "
                       "`arc collector` (embedded, chDB store at $ARC_STORE or ~/.arc/store)")
    else:
        rep.line(BAD, f"{where}{suffix}: {detail}")
    if os.environ.get("ARC_WAL_PATH"):
        rep.line(INFO, f"disk buffer: {_wal_summary(os.environ['ARC_WAL_PATH'])}")


def probe_exporter(endpoint, timeout: float) -> tuple:
    """(ok, what happened): connect, then send an empty OTLP export (checks auth too)."""
    import socket

    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    host, _, port = endpoint.target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        return False, f"UNREACHABLE ({exc.strerror or exc.__class__.__name__})"
    try:
        if endpoint.secure:
            root = open(endpoint.ca_file, "rb").read() if endpoint.ca_file else None
            channel = grpc.secure_channel(endpoint.target, grpc.ssl_channel_credentials(root_certificates=root))
        else:
            channel = grpc.insecure_channel(endpoint.target)
    except OSError as exc:
        return False, f"cannot read the CA file: {exc.strerror or exc}"
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return False, f"UNREACHABLE (no connection within {timeout:g} s)"
        call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                   request_serializer=ExportTraceServiceRequest.SerializeToString,
                                   response_deserializer=ExportTraceServiceResponse.FromString)
        try:
            call(ExportTraceServiceRequest(), timeout=timeout, metadata=endpoint.headers or None)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            return False, f"connected, but an OTLP export was refused: {getattr(code, 'name', code)}"
        return True, "reachable, accepts OTLP exports"
    finally:
        channel.close()


def _wal_summary(path: str) -> str:
    import sqlite3

    full = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(full):
        return f"{full} (not created yet)"
    try:
        with sqlite3.connect(f"file:{full}?mode=ro", uri=True, timeout=1) as db:
            spans = db.execute("SELECT COALESCE(SUM(spans), 0) FROM batches").fetchone()[0]
        return f"{full}: {spans} span(s) waiting for the collector"
    except sqlite3.Error as exc:
        return f"{full}: unreadable ({exc})"


def check_store(rep: Report, timeout: float) -> None:
    rep.section("Span store (what `arc query` reads)")
    try:
        from .collector import reader
    except ImportError as exc:
        rep.line(INFO, f"collector extra not installed ({exc.name}); skipped")
        return
    try:
        kind, target = reader.resolve()
    except Exception as exc:
        rep.line(BAD, f"cannot work out the store: {exc}")
        return
    if kind == "url":
        try:
            rows = reader.query_bytes("SELECT count() FROM otel_traces", "TabSeparated", url=target)
            rep.line(OK, f"collector query endpoint {target}: reachable, otel_traces has "
                         f"{rows.decode().strip()} span(s)")
        except Exception as exc:
            rep.line(BAD, f"collector query endpoint {target}: {_reason(exc)}")
        return
    from .extras import install_hint, missing

    if "chdb" in missing("collector"):
        rep.line(WARN, f"store {target}: chDB is not installed, so neither `arc collector` nor "
                       f"`arc query --store` can open it: {install_hint('collector')}")
    elif os.path.isdir(target):
        rep.line(OK, f"chDB store {target} exists (no collector running; `arc query --store` opens it)")
    else:
        rep.line(WARN, f"no store at {target} and no collector running (start one: `arc collector`)")


def check_control(rep: Report, timeout: float) -> None:
    """The control connection (ARC_CONTROL_ENDPOINT: reachable, key accepted, tenant) and the versions
    this host's mirror runs."""
    if not (os.environ.get("ARC_CONTROL_ENDPOINT") or "").strip():
        return
    rep.section("Control plane (ARC_CONTROL_ENDPOINT)")
    try:
        from .control.gen import control_pb2 as pb
        from .control.remote import RemoteError, connect

        stub, metadata, conf = connect(os.environ["ARC_CONTROL_ENDPOINT"])
    except Exception as exc:
        rep.line(BAD, f"cannot use the control settings: {exc}")
        return
    import grpc

    try:
        reply = stub.List(pb.ListRequest(), metadata=metadata, timeout=timeout)
        rep.line(OK, f"{conf.describe()}: connected, tenant {reply.tenant}, {len(reply.artifacts)} artifact(s)")
    except grpc.RpcError as exc:
        rep.line(BAD, f"{conf.describe()}: {exc.code().name}: {exc.details()}")
    except RemoteError as exc:
        rep.line(BAD, str(exc))
    if not os.environ.get("ARC_TRUST_KEY"):
        rep.line(BAD, "ARC_TRUST_KEY not set: the agent applies no update from the control server")
    from .registry import Registry, default_root

    mirror = Registry(default_root())
    try:
        rows = mirror.list()
    except Exception as exc:
        rows = []
        rep.line(WARN, f"mirror {mirror.root}: {exc}")
    for row in rows:
        rep.line(INFO, f"in use: {row['kind']}/{row['name']} "
                 + ", ".join(f"{ch}={v}" for ch, v in sorted(row["channels"].items())) + f" (mirror {mirror.root})")


def check_agent(rep: Report, url: str | None, timeout: float) -> None:
    status_url = _status_url(url)
    if status_url is None:
        return
    rep.section(f"Running agent ({status_url})")
    try:
        info = _fetch_status(status_url, timeout)
    except Exception as exc:
        rep.line(BAD, f"no answer: {_reason(exc)}")
        return
    telemetry = info.get("telemetry") or {}
    rep.line(INFO, f"Arc {info.get('version')} in pid {info.get('pid')}"
                   f"{' (DISABLED)' if info.get('disabled') else ''}")
    patched = [f"{n} {i.get('version')}" for n, i in (info.get("integrations") or {}).items() if i.get("patched")]
    skipped = [f"{n}: {i.get('skipped')}" for n, i in (info.get("integrations") or {}).items() if i.get("skipped")]
    rep.line(OK if patched else INFO, "patched: " + (", ".join(patched) or "nothing yet"))
    for item in skipped:
        rep.line(WARN, "skipped " + item)
    state = telemetry.get("export_state")
    where = telemetry.get("endpoint") or ("none of Arc's over OTLP (OTEL_TRACES_EXPORTER)" if telemetry.get("owned")
                                          else "not Arc's own yet (no LLM call so far, or the app's TracerProvider)")
    rep.line(WARN if state == "failing" else OK,
             f"exporter {where}: {state}; exported {telemetry.get('exported_spans', 0)}, "
             f"buffered {telemetry.get('buffered_spans', 0)}, dropped {telemetry.get('dropped_spans', 0)} "
             f"(at exit {telemetry.get('dropped_at_exit', 0)}), "
             f"last flush {_ago(telemetry.get('last_flush_ts'))}")
    if telemetry.get("dropped_spans"):
        rep.line(WARN, f"{telemetry['dropped_spans']} span(s) were lost (buffer full or rejected)")
    if telemetry.get("dropped_at_exit"):
        rep.line(WARN, f"{telemetry['dropped_at_exit']} span(s) dropped at exit: not sent within "
                       "ARC_SHUTDOWN_FLUSH_MS when the process stopped (set ARC_WAL_PATH to keep them)")
    patterns = info.get("patterns")
    if patterns:
        rep.line(INFO, f"patterns: {patterns.get('patterns', 0)} loaded (bundle "
                       f"{patterns.get('bundle_version') or '-'}), {patterns.get('fixes_applied', 0)} fixes applied")
    guards = info.get("guards") or {}
    breaker = guards.get("breaker") or {}
    if info.get("breaker_open"):
        rep.line(WARN, f"circuit breaker OPEN: {breaker.get('reason', '')}")
    else:
        rep.line(OK, f"circuit breaker closed (opened {breaker.get('opens', 0)} time(s))")
    sampling = guards.get("sampling") or {}
    if sampling.get("active"):
        rep.line(INFO, f"sampling active: {sampling.get('qps')} calls/s > {sampling.get('max_qps')}, keeping "
                       f"{sampling.get('rate')}")
    control = info.get("control")
    if control:
        rep.line(OK if control.get("connected") else WARN,
                 f"control {control.get('endpoint')}: {'connected' if control.get('connected') else 'NOT connected'}"
                 f" (tenant {control.get('tenant')}); in use: "
                 + (", ".join(f"{k}={v}" for k, v in (control.get("in_use") or {}).items()) or "nothing yet"))
        if control.get("last_error"):
            rep.line(WARN, f"control: {control['last_error']}")
    errors = info.get("internal_errors") or {}
    if errors:
        rep.line(WARN, "Arc internal errors (calls went through unchanged): "
                 + ", ".join(f"{k}={v}" for k, v in errors.items()))


# -- helpers --------------------------------------------------------------------------------------
def _status_url(url: str | None) -> str | None:
    if not url:
        from .settings import value

        port = value("ARC_METRICS_PORT")
        if not port:
            return None
        host = value("ARC_METRICS_HOST") or "127.0.0.1"
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    if "://" not in url:
        url = "http://" + url
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    if path.strip("/") in ("", "metrics", "arc/runtime/metrics"):
        path = "arc/runtime/status"
    return f"{scheme}://{host}/{path}"


def _fetch_status(url: str, timeout: float) -> dict:
    from .netutil import read_token_file
    from .settings import value

    request = urllib.request.Request(url)
    token_file = value("ARC_METRICS_TOKEN_FILE")
    if token_file:  # the endpoint then requires it
        request.add_header("Authorization", f"Bearer {read_token_file(token_file, 'ARC_METRICS_TOKEN_FILE')}")
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - an address the user gave
        return json.loads(resp.read().decode())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"unreachable ({getattr(exc.reason, 'strerror', None) or exc.reason})"
    return str(exc) or repr(exc)


def _ago(ts) -> str:
    import time

    if not ts:
        return "never"
    return f"{max(0.0, time.time() - float(ts)):.1f} s ago"
