"""Hot reload: the watcher picks up file changes; readers see the old set or the new set, never
a mix; a bad edit leaves the old set active."""

import json
import os
import threading
import time

from arc_agent.llm.request import from_openai_chat
from arc_agent.patterns import PatternEngine

VIEW = from_openai_chat({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]})


def bundle(version, seed, top_p=None):
    patterns = [{"id": "a", "pattern": {"model": "gpt-4"}, "fix": {"seed": seed}, "priority": 2},
                {"id": "b", "pattern": {"model": "gpt-4"}, "fix": {"top_p": top_p if top_p is not None else seed / 10},
                 "priority": 1}]
    return json.dumps({"version": version, "name": "live", "patterns": patterns})


def write(path, text):
    """Write and bump the mtime so that even a same-second rewrite is visible to the poller."""
    path.write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_watcher_reloads_on_change_and_keeps_old_set_on_bad_edit(tmp_path):
    path = tmp_path / "live.json"
    write(path, bundle(1, 1))
    engine = PatternEngine([str(path)], poll_interval=0.05)
    try:
        assert engine.stats()["watching"] is True
        assert engine.fix(VIEW).kwargs["seed"] == 1
        write(path, bundle(2, 2))
        assert wait_for(lambda: engine.fix(VIEW).kwargs["seed"] == 2)
        assert engine.stats()["bundle_version"] == "live@2"
        write(path, '{"version": 3, "patterns": [')  # a bad edit
        assert wait_for(lambda: engine.stats()["last_error"] is not None)
        assert engine.fix(VIEW).kwargs["seed"] == 2 and "invalid JSON" in engine.stats()["last_error"]
        write(path, bundle(4, 4))
        assert wait_for(lambda: engine.fix(VIEW).kwargs["seed"] == 4)
        assert engine.stats()["last_error"] is None
    finally:
        engine.stop()
    assert engine.stats()["watching"] is False


def test_no_watcher_without_bundles_or_when_disabled(tmp_path):
    e = PatternEngine(poll_interval=0.05)
    e.register({"model": "gpt-4"}, {"seed": 1})
    assert e.stats()["watching"] is False
    path = tmp_path / "b.json"
    write(path, bundle(1, 1))
    e2 = PatternEngine([str(path)], poll_interval=0)
    assert e2.stats()["watching"] is False


def test_reload_is_atomic_for_concurrent_readers(tmp_path):
    """Two patterns change together; a reader must never see one from each version."""
    path = tmp_path / "live.json"
    write(path, bundle(1, 1))
    engine = PatternEngine([str(path)], poll_interval=0)
    seen, mixed = set(), []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            kw = engine.fix(VIEW).kwargs
            pair = (kw["seed"], kw["top_p"])
            seen.add(pair)
            if pair[1] != pair[0] / 10:
                mixed.append(pair)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for version in range(2, 30):
            write(path, bundle(version, version % 5 + 1))
            assert engine.reload() == []
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not mixed
    assert len(seen) > 1



def test_forked_child_keeps_watching(tmp_path):
    """Threads do not survive fork; the engine restarts its watcher in the child."""
    path = tmp_path / "live.json"
    write(path, bundle(1, 1))
    engine = PatternEngine([str(path)], poll_interval=0.05)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report whether it picks up a change
        try:
            write(path, bundle(2, 2))
            ok = wait_for(lambda: engine.fix(VIEW).kwargs["seed"] == 2, timeout=10)
            os.write(w, b"1" if ok and engine.stats()["watching"] else b"0")
        finally:
            os._exit(0)
    os.close(w)
    try:
        assert os.read(r, 1) == b"1"
    finally:
        os.waitpid(pid, 0)
        engine.stop()
