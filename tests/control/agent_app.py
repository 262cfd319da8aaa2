"""A lightweight agent for the control-plane tests: Arc's runtime (patterns + control subscriber)
and a tiny app loop calling the fixer, printing one JSON line per change of the fix it gets.

stdout lines: {"connected": tenant} once, {"seed": N, "t": unix time} on every change, with
ARC_VISION_POLICY {"policy": version} on every change of the vision policy slot, and on SIGTERM
{"calls": N, "failures": N, "status": {...}}.
"""

import json
import os
import signal
import sys
import threading
import time

from arc_agent.control import agent
from arc_agent.llm.request import from_openai_chat
from arc_agent.runtime import get_runtime

VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())


def say(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main() -> None:
    runtime = get_runtime()
    runtime.activate()
    calls = failures = 0
    seed, connected = "unset", False
    policy, policy_version = None, "unset"
    if os.environ.get("ARC_VISION_POLICY"):
        from arc_agent.vision import policy
    while not done.is_set():
        try:
            engine = runtime.patterns
            out = engine.fix(VIEW) if engine is not None else None
            now = None if out is None or out.kwargs is None else out.kwargs.get("seed")
            calls += 1
        except Exception as exc:  # a failing call is what the tests look for
            failures += 1
            say(failure=repr(exc))
            continue
        if now != seed:
            seed = now
            say(seed=now, t=time.time())
        if policy is not None:
            loaded = policy.slot.get()
            if (loaded and loaded.version) != policy_version:
                policy_version = loaded and loaded.version
                say(policy=policy_version)
        sub = agent.SUBSCRIBER
        if not connected and sub is not None and sub.connected:
            connected = True
            say(connected=sub.tenant)
        done.wait(0.002)
    sub = agent.SUBSCRIBER
    say(calls=calls, failures=failures, status=None if sub is None else sub.status())


if __name__ == "__main__":
    main()
