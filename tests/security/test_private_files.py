"""Files Arc writes are its own: the span WAL is never opened through a symlink or in a file another
user owns (a WAL path in a shared folder such as /tmp); the collector refuses a store folder that
belongs to someone else, and clients ignore a ``collector.json`` someone else could have written
(it says where to send queries and which token and certificate to use)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers.collector import arc_command
from tests.helpers.ports import free_port
from tests.helpers.procs import clean_env, run

APP = """
import os, openai
c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
print("done")
"""
NOBODY = 65534


def _run_app(devllm, wal) -> str:
    env = clean_env(DEVLLM_URL=devllm.base_url, ARC_ENDPOINT=f"grpc://127.0.0.1:{free_port()}",
                    ARC_EXPORT_TIMEOUT="0.3", ARC_WAL_PATH=str(wal))
    proc = run(["python", "-c", APP], env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "done", proc.stderr
    return proc.stderr


def test_a_wal_path_that_is_a_symlink_is_not_followed(devllm, tmp_path):
    victim = tmp_path / "victim.db"  # an empty file is a valid empty SQLite database
    victim.write_bytes(b"")
    victim.chmod(0o644)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "arc.wal").symlink_to(victim)
    err = _run_app(devllm, shared / "arc.wal")
    assert victim.read_bytes() == b"" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not (tmp_path / "victim.db-wal").exists()
    assert "is a symlink" in err and "buffering in memory only" in err, err


def test_a_wal_side_file_that_is_a_symlink_is_not_followed(devllm, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "arc.wal-wal").symlink_to(victim)
    err = _run_app(devllm, tmp_path / "arc.wal")
    assert victim.read_bytes() == b"keep"
    assert "arc.wal-wal is a symlink" in err, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file owned by another user")
def test_a_wal_file_owned_by_another_user_is_not_used(devllm, tmp_path):
    wal = tmp_path / "arc.wal"
    wal.write_bytes(b"")
    wal.chmod(0o666)
    os.chown(wal, NOBODY, NOBODY)
    err = _run_app(devllm, wal)
    assert wal.read_bytes() == b"" and stat.S_IMODE(wal.stat().st_mode) == 0o666
    assert "not a regular file owned by this user" in err, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder owned by another user")
def test_the_collector_refuses_a_store_folder_another_user_owns(tmp_path):
    store = tmp_path / "store"
    store.mkdir(mode=0o777)
    os.chown(store, NOBODY, NOBODY)
    proc = subprocess.run(arc_command("collector", "--store", str(store), "--listen", "127.0.0.1:0",
                                      "--query-listen", "127.0.0.1:0"), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert f"store folder {store} belongs to uid {NOBODY}" in proc.stderr, proc.stderr
    assert os.listdir(store) == []


@pytest.fixture
def canary():
    """An HTTP server that records every request (a forged collector.json points clients here)."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"1\n")

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _forge_state(folder, query_url: str):
    path = folder / "collector.json"
    path.write_text(json.dumps({"pid": os.getpid(), "query": query_url, "otlp": "grpc://127.0.0.1:1",
                                "token": "forged-token-000000000"}))
    return path


def _arc_query(store) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARC_", "OTEL_"))}
    return subprocess.run(arc_command("query", "--store", str(store), "SELECT 1"), capture_output=True,
                          text=True, timeout=120, env=env)


def test_a_collector_json_in_a_folder_others_can_write_is_not_trusted(tmp_path, canary):
    url, seen = canary
    store = tmp_path / "store"
    store.mkdir()
    _forge_state(store, url)
    store.chmod(0o777)  # e.g. a store under a shared folder: anyone could have put this file there
    proc = _arc_query(store)
    assert seen == [], "the client sent its query where a forged collector.json pointed"
    assert "ignoring" in proc.stderr and "other users can write" in proc.stderr, proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file owned by another user")
def test_a_collector_json_another_user_owns_is_not_trusted(tmp_path, canary):
    url, seen = canary
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    os.chown(_forge_state(store, url), NOBODY, NOBODY)
    proc = _arc_query(store)
    assert seen == [], "the client sent its query where a forged collector.json pointed"
    assert "ignoring" in proc.stderr, proc.stderr


def test_blob_store_folders_are_private(tmp_path):
    """full_data screenshots and DOM snapshots: 0600 files in folders only the owner can list, the
    default ``.arc/blobs`` parents included."""
    from arc_agent.vision.blobstore import BlobStore

    root = tmp_path / "app" / ".arc" / "blobs"
    key = BlobStore(str(root)).put_png(b"\x89PNG screenshot")
    html = BlobStore(str(root)).put_html("<html>page</html>")
    for folder in (tmp_path / "app", tmp_path / "app" / ".arc", root, root / key[:2], root / html[:2]):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((root / key[:2] / f"{key}.png").stat().st_mode) == 0o600
    assert [p.name for p in (root / key[:2]).iterdir() if p.suffix == ".tmp"] == []


def test_a_fingerprints_file_that_is_a_symlink_is_not_followed(tmp_path, caplog):
    """``ARC_BLOB_DIR`` is ``.arc/blobs`` under the app's working folder, which may be shared: a
    planted ``fingerprints.jsonl`` link must not make Arc append page URLs and selectors elsewhere."""
    from arc_agent.vision.fingerprint import Fingerprint, FingerprintStore

    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    (blobs / "fingerprints.jsonl").symlink_to(victim)
    store = FingerprintStore(path=str(blobs / "fingerprints.jsonl"))
    store.put("https://shop.example/cart", "#buy", Fingerprint(tag="button", text="Buy now"))
    assert victim.read_text() == "keep\n"
    assert store.get("https://shop.example/cart", "#buy") is not None  # kept in memory
    assert f"ARC_BLOB_DIR={blobs} cannot be used" in caplog.text
