"""A plain LLM app (no Arc code) whose calls hit every failure of `arc dev-llm`'s catalogue, next to
healthy calls: run it under ``arc-instrument`` to give Arc failures to learn from, then again with the
learned patterns (``ARC_PATTERNS=registry:…``) to see them fixed.

    python examples/learn_app.py --base-url http://127.0.0.1:8765 --seed 1 --rounds 10 [--held-out]

``--held-out`` draws other prompts (another vocabulary) and other parameter values than the
learning run, from the same kinds of request. The last stdout line is JSON: per call its category
(``healthy`` or the catalogue failure it is meant to hit), what the app saw, and the model that
answered; then failure counts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter

import anthropic
import openai

VOCABULARY = ("alpha", "delta", "order", "refund", "ship", "parcel", "status", "invoice")
HELD_OUT_VOCABULARY = ("basket", "courier", "voucher", "return", "tracking", "warranty", "receipt", "stock")
FIXABLE = ("unsupported_temperature", "unsupported_max_tokens", "context", "invalid_json", "truncated",
           "out_of_range")


class Draw:
    """Prompts and parameter values; the held-out draw uses another vocabulary and other ranges."""

    def __init__(self, seed: int, held_out: bool) -> None:
        self.rng = random.Random(seed)
        self.held_out = held_out
        self.vocabulary = HELD_OUT_VOCABULARY if held_out else VOCABULARY

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(self.vocabulary) for _ in range(n))

    def uniform(self, learn: tuple, held: tuple) -> float:
        return round(self.rng.uniform(*(held if self.held_out else learn)), 2)

    def integer(self, learn: tuple, held: tuple) -> int:
        return self.rng.randint(*(held if self.held_out else learn))


def workload(seed: int, rounds: int, held_out: bool = False) -> list:
    """[(provider, kwargs, category)], shuffled."""
    d = Draw(seed, held_out)
    calls = []
    for i in range(rounds):
        user = [{"role": "user", "content": f"{i} " + d.words(d.integer((5, 30), (4, 24)))}]
        short = [{"role": "user", "content": d.words(d.integer((3, 12), (2, 10)))}]
        big = [{"role": "user", "content": d.words(d.integer((2600, 4000), (2800, 4400)))}]
        calls += [
            ("openai", {"model": "gpt-4o-mini", "messages": user, "temperature": d.uniform((0, 0.8), (0.05, 0.7)),
                        "max_tokens": d.rng.choice((64, 128, 256, 512))}, "healthy"),
            ("openai", {"model": "gpt-4o-mini", "messages": user, "max_tokens": d.integer((100, 400), (120, 600))},
             "healthy"),
            ("openai", {"model": "reasoning-mini", "messages": user,
                        "temperature": d.uniform((0.1, 0.9), (0.2, 1.6))}, "unsupported_temperature"),
            ("openai", {"model": "reasoning-mini", "messages": user, "max_tokens": d.integer((100, 900), (50, 2000))},
             "unsupported_max_tokens"),
            ("openai", {"model": "reasoning-mini", "messages": user,
                        "max_completion_tokens": d.integer((100, 900), (80, 1200))}, "healthy"),
            ("openai", {"model": "small-4k", "messages": big, "max_tokens": 256}, "context"),
            ("openai", {"model": "small-4k", "messages": short, "max_tokens": 256}, "healthy"),
            ("openai", {"model": "large-128k", "messages": big, "max_tokens": 256}, "healthy"),
            ("openai", {"model": "gpt-4o-mini", "messages": user, "response_format": {"type": "json_object"},
                        "temperature": d.uniform((0.95, 1.4), (0.93, 1.8))}, "invalid_json"),
            ("openai", {"model": "gpt-4o-mini", "messages": user, "response_format": {"type": "json_object"},
                        "temperature": d.uniform((0.0, 0.9), (0.1, 0.85))}, "healthy"),
            ("openai", {"model": "gpt-4o-mini", "messages": user, "max_tokens": d.integer((2, 12), (1, 14))},
             "truncated"),
            ("anthropic", {"model": "claude-haiku-small", "messages": user,
                           "max_tokens": d.integer((5000, 9000), (4500, 16000))}, "out_of_range"),
            ("anthropic", {"model": "claude-haiku-small", "messages": user,
                           "max_tokens": d.rng.choice((256, 1024, 4096) if not held_out else (300, 2000, 4000))},
             "healthy"),
        ]
    d.rng.shuffle(calls)
    return calls


def _parses(text: str | None) -> bool:
    try:
        json.loads(text or "")
    except ValueError:
        return False
    return True


def call(oai: openai.OpenAI, ant: anthropic.Anthropic, provider: str, kwargs: dict) -> tuple:
    """(what the app saw, model that answered): ok, http_<status>, truncated or invalid_json."""
    try:
        if provider == "anthropic":
            reply = ant.messages.create(**kwargs)
            return ("truncated" if reply.stop_reason == "max_tokens" else "ok"), reply.model
        reply = oai.chat.completions.create(**kwargs)
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        return f"http_{exc.status_code}", ""
    choice = reply.choices[0]
    if choice.finish_reason == "length":
        return "truncated", reply.model
    if "response_format" in kwargs and not _parses(choice.message.content):
        return "invalid_json", reply.model
    return "ok", reply.model


def main(argv: list | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", required=True, help="an `arc dev-llm` base URL")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=10, help="13 calls a round")
    p.add_argument("--held-out", action="store_true", help="other prompts and parameter values")
    args = p.parse_args(argv)
    oai = openai.OpenAI(base_url=args.base_url + "/v1", api_key="sk-learn-demo-not-a-key", max_retries=0)
    ant = anthropic.Anthropic(base_url=args.base_url, api_key="sk-ant-learn-demo-not-a-key", max_retries=0)
    calls = []
    for provider, kwargs, category in workload(args.seed, args.rounds, args.held_out):
        seen, model = call(oai, ant, provider, kwargs)
        calls.append({"category": category, "model": kwargs["model"], "seen": seen, "answered_by": model,
                      "prompt_chars": sum(len(m["content"]) for m in kwargs["messages"])})
    failed = Counter(c["category"] for c in calls if c["seen"] != "ok")
    seen = Counter(c["seen"] for c in calls if c["seen"] != "ok")
    print(f"{len(calls)} calls, {sum(failed.values())} failed: "
          + ", ".join(f"{k} {n}" for k, n in sorted(seen.items()))
          + " | by kind of call: " + ", ".join(f"{k} {n}" for k, n in sorted(failed.items())), file=sys.stderr)
    print(json.dumps({"calls": calls, "failed": dict(failed), "total_failed": sum(failed.values()),
                      "fixable_failed": sum(n for cat, n in failed.items() if cat in FIXABLE),
                      "rate_limited": sum(c["seen"] == "http_429" for c in calls)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
