"""``arc golden``: run the shipped golden-request cases against this install.

Engine level by default; ``--e2e`` also sends every case through the real OpenAI/Anthropic SDKs,
instrumented by Arc in this process, to an in-process ``arc dev-llm`` and checks what it received.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from . import settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--e2e", action="store_true",
                        help="also run each case through the real SDKs against an in-process dev-llm server")
    parser.add_argument("--cases", metavar="FILE", help="a golden cases file (default: the shipped one)")
    parser.add_argument("--json", action="store_true", help="print one JSON report line")


def run(args: argparse.Namespace) -> int:
    from .patterns import golden
    from .patterns.errors import BundleError

    try:
        cases = golden.load_cases(args.cases)
    except BundleError as exc:  # too big, not a regular file, too slow to read, not YAML: say which
        print(f"arc golden: {exc}", file=sys.stderr)
        return 2
    results = [golden.run_engine_case(c) for c in cases]
    if args.e2e:
        results += run_e2e(cases)
    failed = [r for r in results if not r.ok]
    if args.json:
        print(json.dumps({"ok": not failed, "passed": len(results) - len(failed), "failed": len(failed),
                          "results": [r.as_dict() for r in results]}))
    else:
        for r in results:
            print(f"{'ok  ' if r.ok else 'FAIL'} [{r.mode}] {r.name}")
            for p in r.problems:
                print(f"       {p}")
        print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def run_e2e(cases: list) -> list:
    """Install Arc in this process with all cases' patterns and call the dev-llm server."""
    import anthropic
    import openai

    from .api import Arc
    from .devllm import DevLLMServer
    from .patterns import golden

    if settings.text("ARC_PATTERNS"):
        print("note: ARC_PATTERNS is set; its patterns are loaded too and may change the results")
    with tempfile.TemporaryDirectory(prefix="arc-golden-") as tmp, DevLLMServer(port=0) as server:
        arc = Arc(patterns=golden.bundle_paths(cases, tmp))
        try:
            clients = {
                "openai": openai.OpenAI(base_url=server.openai_base_url, api_key="golden", max_retries=0),
                "anthropic": anthropic.Anthropic(base_url=server.base_url, api_key="golden", max_retries=0),
            }

            def last_body():
                received = server.requests()
                return received[-1]["body"] if received else None

            return golden.run_e2e(cases, server, clients, last_body)
        finally:
            arc.shutdown()
