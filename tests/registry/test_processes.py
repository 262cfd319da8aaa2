"""Real processes: concurrent publishers get distinct versions; the ``arc registry`` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from arc_agent.registry import Registry
from tests.helpers.collector import arc_command

_PUBLISHER = textwrap.dedent("""
    import os, sys, time
    from arc_agent.registry import Registry
    root, go, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    deadline = time.monotonic() + 60
    while not os.path.exists(go):  # start together, so the publishes really overlap
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.001)
    reg = Registry(root)
    for i in range(8):
        path = os.path.join(os.path.dirname(go), f"{tag}-{i}.json")
        with open(path, "w") as fh:
            fh.write('{"version": 1, "name": "%s-%d", "patterns": []}' % (tag, i))
        man = reg.publish("patterns", "shared", path, job_id=f"{tag}-{i}", channel="canary")
        print(man.version, flush=True)
""")


def test_concurrent_publishers_get_distinct_versions(tmp_path):
    root, go = str(tmp_path / "registry"), str(tmp_path / "go")
    procs = [subprocess.Popen([sys.executable, "-c", _PUBLISHER, root, go, tag], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("a", "b", "c")]
    open(go, "w").close()
    got = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        got.append([int(v) for v in out.split()])
    for versions in got:
        assert versions == sorted(versions)  # each publisher sees its versions grow
    assert sorted(v for vs in got for v in vs) == list(range(1, 25))
    reg = Registry(root)
    for v in range(1, 25):
        man, path = reg.verified("patterns", "shared", v)  # each manifest matches its own bytes
        assert json.load(open(path))["name"] == man.job_id
    canary = reg.channel("patterns", "shared", "canary")
    assert len(canary.moves) == 24 and canary.version in (got[0][-1], got[1][-1], got[2][-1])


def _arc(*args, env=None):
    return subprocess.run(arc_command("registry", *args), capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_command_line(tmp_path):
    bundle = tmp_path / "hand.json"
    bundle.write_text('{"version": 1, "name": "hand", "patterns": []}')
    root = str(tmp_path / "reg")
    out = _arc("publish", "patterns", "hand", str(bundle), "--channel", "canary", "--metrics", '{"support": 12}',
               env={"ARC_REGISTRY": root})
    assert out.returncode == 0, out.stderr
    assert "published patterns/hand@1" in out.stdout and "canary" in out.stdout
    assert _arc("publish", "patterns", "hand", str(bundle), "--registry", root).returncode == 0
    out = _arc("promote", "patterns", "hand", "--registry", root)  # default: what canary serves
    assert out.returncode == 0 and "patterns/hand@stable -> version 1" in out.stdout
    assert _arc("promote", "patterns", "hand", "2", "--registry", root).returncode == 0
    out = _arc("rollback", "patterns", "hand", "--registry", root, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["version"] == 1
    out = _arc("list", "--registry", root, "--json")
    assert json.loads(out.stdout) == [{"kind": "patterns", "name": "hand", "versions": 2, "latest": 2,
                                       "channels": {"canary": 1, "stable": 1}, "shares": {}}]
    out = _arc("show", "patterns", "hand", "--registry", root)
    assert "patterns/hand@1" in out.stdout and "verified  ok" in out.stdout and '"support": 12' in out.stdout
    out = _arc("rollback", "patterns", "hand", "--registry", root)
    assert out.returncode == 1 and out.stderr.startswith("error: patterns/hand@stable: nothing to roll back")
    out = _arc("publish", "patterns", "../escape", str(bundle), "--registry", root)
    assert out.returncode == 1 and "bad artifact name" in out.stderr


def test_publishing_a_file_that_is_no_pattern_bundle_is_refused(tmp_path):
    """The wrong file given to ``publish patterns`` (here a Python script) made an immutable version a
    fleet could be pointed at; now the bundle errors are shown and no version exists. Models are any
    file, and compiled sets and bundle folders publish as before."""
    root = str(tmp_path / "reg")
    script = tmp_path / "app.py"
    script.write_text("import openai\nclient = openai.OpenAI()\nprint(client.models.list(): 1)\n")
    out = _arc("publish", "patterns", "fixes", str(script), "--channel", "canary", "--registry", root)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"error: {script}: invalid YAML" in out.stderr and "nothing was published" in out.stderr
    assert _arc("list", "--registry", root, "--json").stdout.strip() == "[]"
    assert _arc("publish", "models", "m", str(script), "--registry", root).returncode == 0
    bundle = tmp_path / "bundles" / "hand.json"
    bundle.parent.mkdir()
    bundle.write_text('{"version": 1, "name": "hand", "patterns": [{"id": "p", "pattern": {"model": "m"}, '
                      '"fix": {"seed": 1}}]}')
    compiled = tmp_path / "hand.arcpatterns"
    assert subprocess.run(arc_command("patterns", "compile", str(bundle), "-o", str(compiled)),
                          capture_output=True, timeout=60).returncode == 0
    for path in (bundle, bundle.parent, compiled):
        out = _arc("publish", "patterns", "fixes", str(path), "--registry", root)
        assert out.returncode == 0, out.stderr
