"""``arc dev-llm``: run the local OpenAI/Anthropic-compatible server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .. import settings

DEFAULT_PORT = 8765

# flag -> DevLLMConfig field; unset flags keep the ARC_DEVLLM_* / built-in default
_SETTINGS = {
    "fail_rate": (float, "fraction of API requests answered with --fail-status, evenly spread "
                         "(0.25 = every 4th)"),
    "fail_status": (int, "HTTP status of --fail-rate failures (default 500)"),
    "delay_ms": (int, "delay before every API response"),
    "chunk_delay_ms": (int, "delay between streamed chunks"),
    "malformed_json_above": (float, "temperature above which JSON replies are malformed (default 0.9)"),
    "truncate_below": (int, "max_tokens below which replies are always truncated (default 16)"),
    "embedding_dimensions": (int, "default embedding size (default 64)"),
    "retry_after_ms": (int, "retry-after-ms sent with 429/5xx (default 10)"),
    "log_size": (int, "requests kept for GET /_dev/requests (default 10000; 0 keeps none)"),
}


def _port() -> int:
    port = settings.integer("ARC_DEVLLM_PORT")
    return DEFAULT_PORT if port is None else port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Deterministic OpenAI- and Anthropic-compatible server for tests and the demo. OpenAI SDK: "
        "base_url=http://HOST:PORT/v1; Anthropic SDK: base_url=http://HOST:PORT. Per request: headers "
        "X-Dev-LLM-Fail: <status>, X-Dev-LLM-Fail-Attempts: <n>, X-Dev-LLM-Delay-Ms, "
        "X-Dev-LLM-Chunk-Delay-Ms, X-Dev-LLM-Reply, X-Dev-LLM-Refusal, X-Dev-LLM-Stream-Error-After, "
        "X-Dev-LLM-Stream-Abort-After; or model 'fail-<status>'. Request log: GET/DELETE /_dev/requests. "
        "Every setting below can also come from ARC_DEVLLM_<NAME> (e.g. ARC_DEVLLM_FAIL_RATE)."
    )
    parser.add_argument("--host", default=settings.text("ARC_DEVLLM_HOST"),
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=_port(),
                        help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})")
    for name, (kind, text) in _SETTINGS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None, help=text)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")


def run(args: Any) -> int:
    from .config import DevLLMConfig
    from .server import DevLLMServer

    try:
        config = DevLLMConfig.from_env().updated(
            {k: getattr(args, k) for k in _SETTINGS if getattr(args, k, None) is not None})
    except ValueError as exc:
        print(f"dev-llm: {exc}", file=sys.stderr)
        return 2
    server = DevLLMServer(args.host, args.port, config, verbose=args.verbose)
    try:
        server.start()
    except (OSError, OverflowError) as exc:  # OverflowError: a port above 65535
        print(f"dev-llm: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    url = server.base_url
    print(f"dev-llm listening on {url}", flush=True)
    print(f"  OpenAI SDK:    OpenAI(base_url='{url}/v1', api_key='dev')\n"
          f"  Anthropic SDK: Anthropic(base_url='{url}', api_key='dev')\n"
          f"  request log:   GET {url}/_dev/requests   (Ctrl-C to stop)", flush=True)
    while not done.wait(3600):
        pass
    server.stop()
    return 0
