"""``arc patterns validate FILE...``, ``arc patterns test FILE... --request REQUEST.json`` and
``arc patterns compile BUNDLE... -o FILE``: for people writing and shipping pattern bundles."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

SDKS = ("openai.chat", "openai.responses", "anthropic.messages")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="patterns_command", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="check bundle files (JSON or YAML) and report every problem")
    v.add_argument("files", nargs="+", metavar="FILE", help="bundle files or directories")
    v.add_argument("--json", action="store_true", help="print a JSON report")
    t = sub.add_parser("test", help="show which patterns match a request and the request Arc would send")
    t.add_argument("files", nargs="+", metavar="FILE", help="bundle files or directories")
    t.add_argument("--request", required=True, metavar="REQUEST.json",
                   help='a file (or inline JSON starting with "{") of SDK keyword arguments, or '
                        '{"sdk": ..., "request": {...}}')
    t.add_argument("--sdk", choices=SDKS, help="which SDK call the request is for (default: guessed)")
    t.add_argument("--threshold", type=float, default=None,
                   help="confidence threshold (default: ARC_FIX_THRESHOLD or 0.5)")
    t.add_argument("--json", action="store_true", help="print a JSON report")
    c = sub.add_parser("compile", help="validate bundles and write their compiled form (for ARC_PATTERNS), "
                                       "e.g. in CI")
    c.add_argument("files", nargs="+", metavar="BUNDLE", help="bundle files (JSON or YAML) or directories")
    c.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="compiled file to write (replaced atomically; by convention *.arcpatterns)")


def run(args: argparse.Namespace) -> int:
    if args.patterns_command == "validate":
        return validate(args.files, args.json)
    if args.patterns_command == "compile":
        return compile_command(args.files, args.output)
    return test(args)


def compile_command(files: list, output: str) -> int:
    """Write the compiled form of ``files`` to ``output``; every problem is named, exit code 1."""
    import time

    from ..progress import Progress
    from .bundle import BundleErrors, resolve_paths
    from .compiled import compile_bundles, is_compiled
    from .errors import BundleError

    try:
        sources = resolve_paths(files)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    problems = [f"{f}: is already a compiled pattern file; compile its JSON/YAML bundles instead"
                for f in sources if is_compiled(f)]
    if not sources:
        problems.append(f"no bundle files (*.json, *.yaml, *.yml) under {', '.join(files)}")
    out_abs = os.path.abspath(output)
    if any(os.path.abspath(f) == out_abs for f in sources):
        problems.append(f"{output}: the output would overwrite one of the bundles")
    if os.path.isdir(output):
        problems.append(f"{output}: is a directory; give the compiled file's name")
    elif not os.path.isdir(os.path.dirname(out_abs)):
        problems.append(f"{output}: its folder {os.path.dirname(out_abs)} does not exist")
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    try:
        with Progress(f"compile {len(sources)} bundle file(s)", total=2, unit="step") as progress:
            progress.stage("load, validate and index")

            def loaded(next_stage: str) -> None:
                progress.advance()
                progress.stage(next_stage)

            n, infos = compile_bundles(sources, output, loaded)
            progress.advance()
    except BundleErrors as exc:
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"not compiled: {len(exc.errors)} problem(s) found; {output} was not written", file=sys.stderr)
        return 1
    except (MemoryError, RecursionError, OSError) as exc:
        print(f"error: cannot compile to {output}: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 1
    size = os.path.getsize(output)
    print(f"compiled {n} pattern(s) from {len(infos)} bundle file(s) into {output} "
          f"({size / 1e6:.1f} MB, {time.monotonic() - t0:.1f} s)")
    return 0


def validate(files: list, as_json: bool) -> int:
    from .bundle import BundleErrors, load_layer
    from .sets import load_set

    try:
        layers, infos = load_set(files, None, load_layer)
    except (MemoryError, RecursionError, OSError) as exc:  # a report, never a traceback
        print(f"error: cannot load {', '.join(files)}: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 1
    except BundleErrors as exc:
        if as_json:
            print(json.dumps({"ok": False, "errors": [_error_dict(e) for e in exc.errors]}, indent=2))
        else:
            for e in exc.errors:
                print(f"error: {e}", file=sys.stderr)
            print(f"invalid: {len(exc.errors)} problem(s) found", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps({"ok": True, "patterns": sum(layer.n for layer in layers),
                          "bundles": [i.as_dict() for i in infos]}, indent=2))
    else:
        for info in infos:
            print(f"ok: {info.file}: {info.count} pattern(s) ({info.label})")
    return 0


def _error_dict(e: Any) -> dict:
    return {"file": getattr(e, "file", None), "index": getattr(e, "index", None),
            "id": getattr(e, "pattern_id", None), "problem": getattr(e, "problem", str(e))}


def guess_sdk(kwargs: dict) -> str:
    model = str(kwargs.get("model", ""))
    if "input" in kwargs or "instructions" in kwargs:
        return "openai.responses"
    if "system" in kwargs or model.startswith("claude"):
        return "anthropic.messages"
    return "openai.chat"


def read_request(path: str, sdk: str | None) -> tuple:
    from .bounded import read_regular
    from .errors import BundleError

    inline = path.lstrip().startswith("{") and not os.path.exists(path)
    shown = "the inline --request" if inline else path
    try:
        doc = json.loads(path if inline else read_regular(path, 64 << 20))
    except BundleError as exc:
        raise SystemExit(f"error: cannot read request {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise SystemExit(f"error: cannot read request {shown}: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("request"), dict):
        sdk = sdk or doc.get("sdk")
        doc = doc["request"]
    if not isinstance(doc, dict):
        raise SystemExit(f"error: {shown}: the request must be a JSON object of SDK keyword arguments")
    sdk = sdk or guess_sdk(doc)
    if sdk not in SDKS:
        raise SystemExit(f"error: unknown sdk {sdk!r} (one of {', '.join(SDKS)})")
    return sdk, doc


def test(args: argparse.Namespace) -> int:
    from .engine import PatternEngine
    from .golden import VIEW_BUILDERS

    sdk, kwargs = read_request(args.request, args.sdk)
    threshold = os.environ.get("ARC_FIX_THRESHOLD", "") if args.threshold is None else str(args.threshold)
    engine = PatternEngine.from_env({"ARC_FIX_THRESHOLD": threshold, "ARC_PATTERNS_POLL": "0"})
    errors = engine.load(args.files)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 1
    outcome, verdicts = engine.explain(VIEW_BUILDERS[sdk](kwargs))
    attrs = dict(outcome.attributes) if outcome is not None else {}
    attrs.pop("arc.pattern.lookup_us", None)
    fixed = outcome.kwargs if outcome is not None and outcome.kwargs is not None else None
    if args.json:
        print(json.dumps({"sdk": sdk, "patterns": verdicts, "attributes": _jsonable(attrs),
                          "changed": fixed is not None, "request": fixed if fixed is not None else kwargs},
                         indent=2, default=repr))
        return 0
    print(f"sdk: {sdk}   threshold: {engine.threshold}")
    if not verdicts:
        print("no pattern matches this request")
    for v in verdicts:
        extra = f" (lost {', '.join(v['lost_to_higher_priority'])} to higher priority)" \
            if v["lost_to_higher_priority"] else ""
        print(f"  {v['id']}: {v['status']}{extra}  priority={v['priority']} confidence={v['confidence']:g}")
    for key, value in attrs.items():
        print(f"  {key} = {value}")
    if fixed is None:
        print("request unchanged")
    else:
        print("fixed request:")
        print(json.dumps(fixed, indent=2, default=repr, ensure_ascii=False))
    return 0


def _jsonable(attrs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}
