"""The agent's subscriber: follows its registry channels on the control server, one thread.

For every ``registry:NAME@CHANNEL`` in ``ARC_PATTERNS`` and ``ARC_VISION_POLICY`` (kind ``models``, a
folder sent as a tar and unpacked with bounds, ``archive.py``) it tells the server the version it runs;
each update is checked (manifest fields, tenant, Ed25519 signature against ``ARC_TRUST_KEY``),
downloaded, checked again (size, sha256), installed into the local mirror registry and the
mirror's channel pointer moved (one atomic replace). The pattern engine already follows that
pointer (``registry:`` settings resolve in the mirror), so the swap is the engine's (or the vision
policy slot's) ordinary hot reload, asked for at once. The mirror keeps every version it got: a
restart without the server runs the last good one. Any refusal keeps the current version and says
why in the log and status. Connection loss: reconnect with exponential backoff and full jitter.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from typing import Any, Dict, Optional, Tuple

import grpc

from .. import failopen, settings
from .._version import __version__
from ..registry import Registry, default_root, names, signing
from ..registry.errors import ArtifactRejected, RegistryError
from ..registry.manifest import parse
from ..registry.ref import PREFIX, parse_ref
from . import archive
from . import config as cfg
from .gen import control_pb2 as pb
from .gen import control_pb2_grpc as pb_grpc

log = logging.getLogger("arc")

BACKOFF_MIN, BACKOFF_MAX, AUTH_BACKOFF = 0.5, 30.0, 60.0
RPC_TIMEOUT = 10.0


def follows_from_env(environ) -> Dict[Tuple[str, str, str], int]:
    """{(kind, name, channel): 0} for each ``registry:NAME[@CHANNEL]`` in ARC_PATTERNS and in
    ARC_VISION_POLICY (kind ``models``; with ARC_VISION_POLICY_CANARY > 0 also NAME@canary, which
    the vision canary slot reads). Pins (``@3``) are not followed."""
    from ..patterns.bundle import split_paths

    out: Dict[Tuple[str, str, str], int] = {}
    refs = [("patterns", item) for item in split_paths(settings.text("ARC_PATTERNS", environ) or "")]
    refs.append(("models", settings.text("ARC_VISION_POLICY", environ) or ""))
    for kind, item in refs:
        item = item.strip()
        if item.startswith(PREFIX):
            try:
                name, where = parse_ref(item)
            except RegistryError:
                continue
            if isinstance(where, str):
                out[(kind, name, where)] = 0
                if kind == "models" and _share(environ.get("ARC_VISION_POLICY_CANARY")) > 0:
                    out[(kind, name, "canary")] = 0
    return out


def _share(raw: Optional[str]) -> float:
    try:
        return float(raw or 0)
    except ValueError:
        return 0.0  # the vision settings log the bad value


class Subscriber:
    def __init__(self, conf: cfg.ControlConfig, runtime: Any, mirror: Registry,
                 follows: Dict[Tuple[str, str, str], int]) -> None:
        self.conf = conf
        self.runtime = runtime
        self.mirror = mirror
        self.follows = follows
        self.in_use: Dict[Tuple[str, str, str], int] = {}
        self.tenant: Optional[str] = None
        self.connected = False
        self.last_error: Optional[str] = None
        self.counters = {"updates": 0, "applied": 0, "rejected": 0, "reconnects": 0, "reports": 0}
        self._trust = None
        self._stop = threading.Event()
        self._report_now = threading.Event()
        self._call = None
        self._stub = None
        self._lock = threading.Lock()
        for key in follows:
            state = self._mirror_state(key)
            if state is not None:
                self.follows[key] = self.in_use[key] = state

    @classmethod
    def from_env(cls, runtime: Any, environ=None) -> Optional[Subscriber]:
        env = os.environ if environ is None else environ
        try:
            conf = cfg.from_env(env)
        except cfg.ConfigError as exc:
            log.error("arc: control plane off: %s", exc)
            return None
        if conf is None:
            return None
        sub = cls(conf, runtime, Registry(default_root(env)), follows_from_env(env))
        if conf.trust_key:
            try:
                sub._trust = signing.load_public(conf.trust_key)[0]
            except (RegistryError, ImportError) as exc:
                sub.last_error = f"ARC_TRUST_KEY unusable ({exc}): no update will be applied"
                log.error("arc: %s", sub.last_error)
        else:
            sub.last_error = "ARC_TRUST_KEY not set: updates from the control server will not be applied"
            log.error("arc: %s", sub.last_error)
        return sub

    # -- thread ---------------------------------------------------------------------------------------
    def run(self) -> None:
        threading.Thread(target=self._report_loop, name="arc-control-report", daemon=True).start()
        backoff = BACKOFF_MIN
        while not self._stop.is_set():
            wait = backoff
            try:
                self._session()
                backoff = BACKOFF_MIN
            except grpc.RpcError as exc:
                wait = self._connection_error(exc, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            except Exception as exc:
                failopen.record("control_session", exc)
                backoff = min(backoff * 2, BACKOFF_MAX)
            finally:
                self.connected = False
            self.counters["reconnects"] += 1
            self._stop.wait(random.uniform(0, wait))  # full jitter: a restarted server is not stampeded

    def stop(self) -> None:
        self._stop.set()
        self._report_now.set()
        call = self._call
        if call is not None:
            call.cancel()

    def _connection_error(self, exc: grpc.RpcError, backoff: float) -> float:
        code = exc.code() if hasattr(exc, "code") else None
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        if code == grpc.StatusCode.UNAUTHENTICATED:
            message = f"control server {self.conf.describe()} refused the API key (ARC_API_KEY): {detail}"
            backoff = AUTH_BACKOFF
        elif code == grpc.StatusCode.UNAVAILABLE:
            hint = "" if self.conf.secure else " (if the server uses TLS: grpcs:// and ARC_CONTROL_CA)"
            message = f"control server {self.conf.describe()} unavailable{hint}: {detail}"
        elif code == grpc.StatusCode.CANCELLED and self._stop.is_set():
            return 0.0
        else:
            message = f"control server {self.conf.describe()}: {getattr(code, 'name', code)}: {detail}"
        if message != self.last_error:
            log.warning("arc: %s; keeping the versions in use, retrying", message)
        self.last_error = message
        return backoff

    def _session(self) -> None:
        channel = self.conf.channel()
        try:
            self._stub = pb_grpc.ControlStub(channel)
            hello = pb.AgentHello(instance_id=self.conf.instance_id, service_name=self.conf.service_name,
                                  arc_version=__version__, follows=[
                                      pb.Follow(kind=k, name=n, channel=c, version=v)
                                      for (k, n, c), v in sorted(self.follows.items())])
            self._call = self._stub.Subscribe(hello, metadata=self.conf.metadata)
            for update in self._call:
                if self._stop.is_set():
                    return
                if not update.HasField("artifact") and not update.error:
                    self.tenant, self.connected = update.tenant, True
                    if self.last_error and self.last_error.startswith("control server"):
                        self.last_error = None
                    log.info("arc: control plane connected to %s (tenant %s)", self.conf.describe(), self.tenant)
                    self._report_now.set()
                    continue
                self.counters["updates"] += 1
                try:
                    self.apply(update)
                except (RegistryError, OSError) as exc:
                    self._reject(str(exc))
                except grpc.RpcError as exc:
                    self._reject(f"download failed: {exc.code().name}: {exc.details()}")
        finally:
            self._call = None
            channel.close()

    def _reject(self, message: str) -> None:
        self.counters["rejected"] += 1
        self.last_error = message
        log.error("arc: control update refused: %s; keeping the version in use", message)
        self._report_now.set()

    # -- applying -------------------------------------------------------------------------------------
    def apply(self, update: pb.Update) -> bool:
        """Check, fetch, install and switch to one update; RegistryError (ArtifactRejected) says why not."""
        a = update.artifact
        key = (a.kind, a.name, a.channel)
        where = f"{a.kind}/{a.name}@{a.version}"
        if key not in self.follows:
            raise ArtifactRejected(f"{where}: the server sent a channel this agent does not follow ({a.channel})")
        if update.error:
            raise RegistryError(f"the server cannot serve {a.kind}/{a.name}@{a.channel}: {update.error}")
        man = parse(a.manifest_json, where)
        if (man.kind, man.name, man.version, man.sha256, man.size) != (a.kind, a.name, a.version, a.sha256, a.size):
            raise ArtifactRejected(f"{where}: update and manifest disagree (kind, name, version, sha256 or size)")
        if man.tenant != self.tenant:
            raise ArtifactRejected(f"{where}: belongs to tenant {man.tenant!r}; this agent's key is tenant "
                                   f"{self.tenant!r}")
        if self._trust is None:
            raise ArtifactRejected(f"{where}: not applied: {self.last_error or 'no trusted key (ARC_TRUST_KEY)'}")
        signing.verify(self._trust, man.signed_payload(), man.signature, where)
        if not self._have(man):
            self._download_and_install(man)
        self.mirror.promote(a.kind, a.name, man.version, a.channel)
        self.follows[key] = man.version
        errors = self._reload(a.kind)
        if errors:
            raise ArtifactRejected(f"{where}: installed but the pattern engine refused it: {errors[0]}")
        self.in_use[key] = man.version
        self.counters["applied"] += 1
        if self.last_error and not self.last_error.startswith("ARC_TRUST_KEY"):
            self.last_error = None
        log.info("arc: control plane: %s/%s@%s now runs version %d (from %s)", a.kind, a.name, a.channel,
                 man.version, a.source_channel or a.channel)
        self._report_now.set()
        return True

    def _have(self, man) -> bool:
        try:
            have = self.mirror.manifest(man.kind, man.name, man.version)
        except RegistryError:
            return False
        if have.sha256 != man.sha256:
            raise ArtifactRejected(f"{man.ref}: the mirror {self.mirror.root} holds a different version "
                                   f"{man.version}; the server's registry was replaced?")
        self.mirror.verified(man.kind, man.name, man.version)
        return True

    def _download_and_install(self, man) -> None:
        folder = os.path.join(self.mirror.root, ".downloads")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="fetch-")
        is_dir = man.artifact_type == "dir"
        limit = archive.max_download(man.size) if is_dir else man.size
        unpacked = tmp + ".d"
        try:
            got = 0
            with os.fdopen(fd, "wb") as fh:
                for chunk in self._stub.Fetch(pb.FetchRequest(kind=man.kind, name=man.name, version=man.version),
                                              metadata=self.conf.metadata, timeout=RPC_TIMEOUT + limit / 1e6):
                    got += len(chunk.data)
                    if got > limit:
                        raise ArtifactRejected(f"{man.ref}: the server sent more than the {limit} bytes the manifest "
                                               f"allows ({man.size} bytes of {'files' if is_dir else 'file'})")
                    fh.write(chunk.data)
            if is_dir:
                archive.unpack(tmp, unpacked, man.size, man.ref)
            # verifies size and sha256 (a folder: every file's name, size and sha256) before the version appears
            self.mirror.install(man, unpacked if is_dir else tmp)
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            shutil.rmtree(unpacked, ignore_errors=True)

    def _reload(self, kind: str) -> list:
        if kind == "models":
            _recheck_vision_policy()
            return []
        engine = getattr(self.runtime, "patterns", None) if kind == "patterns" else None
        if engine is None:
            return []
        return [str(e) for e in engine.reload()]

    def _mirror_state(self, key: Tuple[str, str, str]) -> Optional[int]:
        try:
            state = self.mirror.channel(*key)
        except RegistryError:
            return None
        return None if state is None else state.version

    # -- reporting ------------------------------------------------------------------------------------
    def _report_loop(self) -> None:
        while not self._stop.is_set():
            self._report_now.wait(self.conf.report_s)
            self._report_now.clear()
            if self._stop.is_set() or not self.connected or self._stub is None:
                continue
            try:
                self._stub.Report(self.agent_status(), metadata=self.conf.metadata, timeout=RPC_TIMEOUT)
                self.counters["reports"] += 1
            except grpc.RpcError:
                pass  # the subscription's own error handling reports and retries
            except Exception as exc:
                failopen.record("control_report", exc)

    def agent_status(self) -> pb.AgentStatus:
        from .. import state

        rt = self.runtime
        integrations = {n: v or "" for n, v in getattr(rt, "patched", {}).items()}
        integrations.update({n: f"skipped: {why}"[:200] for n, why in getattr(rt, "skipped", {}).items()})
        counters = dict(self.counters)
        counters.update({f"internal_error.{k}": v for k, v in list(failopen.counts().items())[:50]})
        last_flush = 0.0
        tracing = __import__("sys").modules.get("arc_agent.telemetry.tracing")
        if tracing is not None:
            try:
                last_flush = float(tracing.provider_info().get("last_flush_ts") or 0.0)
            except Exception:
                last_flush = 0.0
        return pb.AgentStatus(
            instance_id=self.conf.instance_id, service_name=self.conf.service_name, arc_version=__version__,
            in_use=[pb.Follow(kind=k, name=n, channel=c, version=v) for (k, n, c), v in sorted(self.in_use.items())],
            integrations=integrations, last_flush_unix=last_flush, breaker_open=bool(state.RUNTIME.breaker_open),
            counters=counters, last_error=(self.last_error or "")[:1000])

    def status(self) -> dict:
        return {"endpoint": self.conf.describe(), "instance_id": self.conf.instance_id, "tenant": self.tenant,
                "connected": self.connected, "mirror": self.mirror.root,
                "in_use": {f"{k}/{n}@{c}": v for (k, n, c), v in self.in_use.items()},
                "last_error": self.last_error, "counters": dict(self.counters),
                "checked_at": time.time()}


def _recheck_vision_policy() -> None:
    """Make the vision policy slots (if the app loaded them) look at the mirror on their next use,
    rather than after their stat interval; the slot's own reload verifies and swaps atomically."""
    policy = sys.modules.get("arc_agent.vision.policy")
    for slot in (getattr(policy, "slot", None), getattr(policy, "canary_slot", None)):
        if slot is not None:
            slot.force_check()


__all__ = ["Subscriber", "follows_from_env", "names"]
