"""1,000 concurrent AsyncOpenAI calls while every blocking primitive called on the loop's thread is
checked for Arc's code beneath it.

Usage: python loop_audit_app.py N (DEVLLM_URL). Prints {"calls": N, "violations": [...], "seen": {...}}.
``LOOP_AUDIT_INJECT_SLEEP=1`` adds a 0.1 ms sleep to Arc's span path (``LLMCall.finish``, recompiled
as Arc's own code), which the audit must report.

Who is responsible for a blocking call is the nearest frame beneath it that is Arc's (``arc_agent``)
or someone else's (the app, the LLM SDK, asyncio); OpenTelemetry and the rest of the standard
library are what Arc calls on its way and are looked through. Checked, on the loop's thread only:
- audit events (any depth, also C calling C): ``open``, ``socket.*``, ``subprocess.Popen``,
  ``os.system`` (and ``time.sleep`` where the interpreter audits it, 3.12+);
- through ``sys.setprofile`` (the loop's thread only): ``time.sleep``, ``select``/``poll``/``epoll`` waits,
  ``Event.wait``, ``Condition.wait``, ``Thread.join``, ``Semaphore.acquire``, blocking
  ``queue.Queue.get``/``put``, and a lock's blocking ``acquire``/``with`` made by Arc's own code.
"""

import asyncio
import json
import linecache
import os
import queue
import select
import sys
import threading
import time
from pathlib import Path

import openai

ARC_DIR = str(Path(__import__("arc_agent").__file__).parent) + os.sep
OTEL_DIR = str(Path(__import__("opentelemetry").__path__[0])) + os.sep
STDLIB_DIR = str(Path(os.__file__).parent) + os.sep
ASYNCIO_DIR = str(Path(asyncio.__file__).parent) + os.sep
SLEEPS = (time.sleep,)
SELECTORS = (select.select,)
WAIT_NAMES = {"poll", "select", "control"}  # select.poll/epoll/kqueue objects' waits
PY_WAITS = {threading.Event.wait.__code__, threading.Condition.wait.__code__, threading.Thread.join.__code__,
            threading.Semaphore.acquire.__code__}
QUEUE_OPS = {queue.Queue.get.__code__, queue.Queue.put.__code__}
LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
AUDITED = ("time.sleep", "open", "socket.", "subprocess.Popen", "os.system")


def owner(frame):
    """'arc', 'other' or None: the nearest frame beneath that is Arc's or someone else's."""
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(ARC_DIR):
            return frame
        if name.startswith(OTEL_DIR) or (name.startswith(STDLIB_DIR) and not name.startswith(ASYNCIO_DIR)
                                         and "site-packages" not in name) or name.startswith("<"):
            frame = frame.f_back
            continue
        return None
    return None


class Audit:
    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.violations: list = []
        self.seen = {"blocking_checked": 0}
        self.on = False

    def report(self, what: str, frame) -> None:
        arc = owner(frame)
        if arc is not None:
            self.violations.append(f"{what} from {arc.f_code.co_filename[len(ARC_DIR):]}:{arc.f_lineno} "
                                   f"({arc.f_code.co_name})")

    def audit(self, event: str, args) -> None:
        if self.on and threading.get_ident() == self.thread and event.startswith(AUDITED):
            self.seen["blocking_checked"] += 1
            self.report(f"audit:{event}", sys._getframe(1))

    def profile(self, frame, event: str, arg) -> None:
        if event == "c_call":
            if arg in SLEEPS:
                self.seen["blocking_checked"] += 1
                self.report("time.sleep", frame)
            elif arg in SELECTORS or (getattr(arg, "__name__", "") in WAIT_NAMES
                                    and type(getattr(arg, "__self__", None)).__module__ == "select"):
                self.seen["blocking_checked"] += 1
                self.report(f"select:{arg.__name__}", frame)
            elif getattr(arg, "__name__", "") in ("acquire", "__enter__") \
                    and isinstance(getattr(arg, "__self__", None), LOCK_TYPES) \
                    and frame.f_code.co_filename.startswith(ARC_DIR):
                line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
                if "acquire(False)" not in line and "blocking=False" not in line:
                    self.report(f"lock:{arg.__name__}", frame)
        elif event == "call":
            code = frame.f_code
            if code in PY_WAITS:
                self.seen["blocking_checked"] += 1
                if frame.f_locals.get("timeout", None) != 0 and frame.f_locals.get("blocking", True):
                    self.report(f"wait:{code.co_qualname}", frame.f_back)
            elif code in QUEUE_OPS and frame.f_locals.get("block", True):
                self.report(f"queue:{code.co_qualname}", frame.f_back)


def inject_sleep() -> None:
    """Arc's ``LLMCall.finish`` with a 0.1 ms sleep first, compiled as Arc's own code."""
    from arc_agent.llm import call

    src = "def finish(self, exc=None):\n    _sleep(0.0001)\n    return _finish(self, exc)\n"
    scope = {"_sleep": time.sleep, "_finish": call.LLMCall.finish}
    exec(compile(src, call.__file__, "exec"), scope)
    call.LLMCall.finish = scope["finish"]


async def main(n: int) -> dict:
    client = openai.AsyncOpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0,
                                timeout=120)
    msgs = [{"role": "user", "content": "Say hello"}]
    await client.chat.completions.create(model="gpt-4", messages=msgs)  # warm: imports, connection, Arc set-up
    if os.environ.get("LOOP_AUDIT_INJECT_SLEEP") == "1":
        inject_sleep()
    audit = Audit()
    sys.addaudithook(audit.audit)
    audit.on = True
    sys.setprofile(audit.profile)  # this (the loop's) thread only
    try:
        tasks = []
        for _ in range(n):  # all in flight at once (the server holds each reply), started one per loop turn
            tasks.append(asyncio.ensure_future(client.chat.completions.create(model="gpt-4", messages=msgs)))
            await asyncio.sleep(0)
        results = await asyncio.gather(*tasks)
    finally:
        sys.setprofile(None)
        audit.on = False
    await client.close()
    return {"calls": len(results), "violations": sorted(set(audit.violations)),
            "violation_count": len(audit.violations), "seen": audit.seen}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
