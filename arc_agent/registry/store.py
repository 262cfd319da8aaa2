"""``Registry``: immutable, numbered versions of artifacts and the channels that point at them.

Layout under the root (``ARC_REGISTRY``, default ``~/.arc/registry``, mode 0700)::

    <kind>/<name>/versions/<N>/manifest.json + the artifact (a file, or a directory)
    <kind>/<name>/channels/<channel>.json        pointer: version, rollback stack, last moves
    <kind>/<name>/.lock                          one writer at a time per name

``Registry(root, tenant=T)`` is tenant T's own registry under ``root/tenants/T`` (what ``arc serve``
serves to T's API keys): its manifests and pointers carry ``tenant``, and a version whose manifest
names another tenant is refused.

A version is staged in a private folder, checked, and renamed into ``versions/<N>`` under the
name's lock, so it appears whole, is numbered one above the last, and never replaces another.
Channel moves (promote, rollback) are one atomic pointer replace. Reads verify manifest, size and
sha256 before a path is handed out; a mismatch is ``ArtifactRejected``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import tempfile
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .. import settings
from . import channels, locking, names
from .channels import ChannelState
from .errors import ArtifactRejected, RegistryError, VersionTaken
from .manifest import Manifest, digest, parse, verify

MANIFEST = "manifest.json"


def default_root(environ: Optional[Mapping[str, str]] = None) -> str:
    """``ARC_REGISTRY``; unset: ``~/.arc/registry``, or with ``ARC_CONTROL_ENDPOINT`` the agent's mirror of
    what the control server sends (``~/.arc/control-mirror``), which ``registry:`` settings then follow."""
    env = os.environ if environ is None else environ
    raw = settings.text("ARC_REGISTRY", env) if settings.is_set("ARC_REGISTRY", env) else ""
    if not raw and settings.text("ARC_CONTROL_ENDPOINT", env):
        raw = os.path.join("~", ".arc", "control-mirror")
    return os.path.abspath(os.path.expanduser(raw or os.path.join("~", ".arc", "registry")))


class Registry:
    """Publish, resolve, promote and roll back artifacts under ``root`` (see the module docstring)."""

    def __init__(self, root: Optional[str] = None, tenant: Optional[str] = None) -> None:
        base = os.path.abspath(os.path.expanduser(root)) if root else default_root()
        self.tenant = names.check_name(tenant, "tenant") if tenant is not None else None
        self.root = os.path.join(base, "tenants", tenant) if tenant is not None else base

    # -- paths ----------------------------------------------------------------------------------------
    def _base(self, kind: str, name: str) -> str:
        return os.path.join(self.root, names.check_kind(kind), names.check_name(name))

    def _version_dir(self, kind: str, name: str, version: int) -> str:
        return os.path.join(self._base(kind, name), "versions", str(names.check_version(version)))

    def _pointer(self, kind: str, name: str, channel: str) -> str:
        return os.path.join(self._base(kind, name), "channels", names.check_channel(channel) + ".json")

    def _check_private(self) -> None:
        """Refuse a root that other users may write: they could plant artifacts an agent would run."""
        try:
            st = os.stat(self.root)
        except FileNotFoundError:
            return
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise RegistryError(f"registry {self.root} is writable by other users (mode "
                                f"{stat.S_IMODE(st.st_mode):04o}); make it private: chmod 700 {self.root}")

    def _prepare(self, kind: str, name: str) -> str:
        self._check_private()
        if not os.path.isdir(self.root):
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            os.chmod(self.root, 0o700)
        base = self._base(kind, name)
        for sub in ("versions", "channels", ".staging"):
            os.makedirs(os.path.join(base, sub), mode=0o700, exist_ok=True)
        return base

    # -- versions -------------------------------------------------------------------------------------
    def versions(self, kind: str, name: str) -> List[int]:
        """Published version numbers of ``kind/name``, ascending ([] if none)."""
        self._check_private()
        try:
            entries = os.listdir(os.path.join(self._base(kind, name), "versions"))
        except FileNotFoundError:
            return []
        return sorted(int(e) for e in entries if e.isdigit() and not e.startswith("0"))

    def manifest(self, kind: str, name: str, version: int) -> Manifest:
        """The manifest of one version, checked to belong where it is stored (not yet its bytes)."""
        folder = self._version_dir(kind, name, version)
        where = f"{kind}/{name}@{version}"
        try:
            with open(os.path.join(folder, MANIFEST), "rb") as fh:
                data = fh.read(names.MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            if not os.path.isdir(folder):
                raise RegistryError(f"{where}: no such version (published: "
                                    f"{self.versions(kind, name) or 'none'})") from None
            raise ArtifactRejected(f"{where}: manifest.json is missing") from None
        man = parse(data, where)
        if (man.kind, man.name, man.version) != (kind, name, version):
            raise ArtifactRejected(f"{where}: manifest names {man.ref}, not the version it is stored as")
        if self.tenant is not None and man.tenant != self.tenant:
            raise ArtifactRejected(f"{where}: belongs to tenant {man.tenant!r}, not {self.tenant!r}")
        return man

    def verified(self, kind: str, name: str, version: int) -> Tuple[Manifest, str]:
        """(manifest, artifact path) of a version whose bytes match its manifest; else ArtifactRejected."""
        man = self.manifest(kind, name, version)
        path = os.path.join(self._version_dir(kind, name, version), man.artifact)
        verify(man, path)
        return man, path

    def resolve(self, kind: str, name: str, channel: str = names.DEFAULT_CHANNEL) -> Tuple[Manifest, str]:
        """(manifest, verified artifact path) of the version ``channel`` points at now."""
        state = self.channel(kind, name, channel)
        if state is None:
            raise RegistryError(f"{kind}/{name}@{channel}: channel not set (publish with --channel "
                                f"{channel}, or promote a version to it)")
        return self.verified(kind, name, state.version)

    def publish(self, kind: str, name: str, path: str, metadata: Optional[Mapping[str, Any]] = None, *,
                metrics: Optional[Mapping[str, Any]] = None, job_id: Optional[str] = None,
                parent: Optional[int] = None, channel: Optional[str] = None,
                signature: Optional[str] = None, sign: Optional[Callable[[bytes], str]] = None) -> Manifest:
        """Store the file or directory at ``path`` as the next version of ``kind/name`` and return
        its manifest; with ``channel``, point that channel at it in the same step. ``sign`` turns
        the manifest's ``signed_payload()`` into its signature (``signing.signer(key_file)``)."""
        names.check_kind(kind)
        names.check_name(name)
        if channel is not None:
            names.check_channel(channel)
        if parent is not None:
            names.check_version(parent)
        try:
            sha, size, artifact_type = digest(path)
        except FileNotFoundError:
            raise RegistryError(f"{path}: no such file or directory") from None
        base = self._prepare(kind, name)
        staging = tempfile.mkdtemp(prefix="publish-", dir=os.path.join(base, ".staging"))
        try:
            entry = entry_name(path)
            target = os.path.join(staging, entry)
            if artifact_type == "dir":
                shutil.copytree(path, target, ignore=shutil.ignore_patterns(".*"))
            else:
                shutil.copyfile(path, target)
            if digest(target)[0] != sha:
                raise RegistryError(f"{path}: changed while it was being published; publish again")
            _make_read_only(target)
            with locking.exclusive(os.path.join(base, ".lock")):
                existing = self.versions(kind, name)
                version = (existing[-1] + 1) if existing else 1
                if parent is not None and parent not in existing:
                    raise RegistryError(f"{kind}/{name}: parent version {parent} does not exist")
                man = Manifest(kind=kind, name=name, version=version, artifact=entry,
                               artifact_type=artifact_type, sha256=sha, size=size,
                               parent=parent if parent is not None else (existing[-1] if existing else None),
                               created=channels.now_iso(), job_id=job_id, metrics=dict(metrics or {}),
                               metadata=dict(metadata or {}), signature=signature, tenant=self.tenant)
                if sign is not None:
                    man = dataclasses.replace(man, signature=sign(man.signed_payload()))
                data = _manifest_bytes(man)
                with open(os.path.join(staging, MANIFEST), "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                final = self._version_dir(kind, name, version)
                if os.path.lexists(final):  # only a hand-made folder can be there: never replace it
                    raise RegistryError(f"{man.ref}: {final} already exists")
                os.rename(staging, final)
                if channel is not None:
                    self._move(kind, name, channel, version, "promote")
            return man
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging, ignore_errors=True)

    def install(self, man: Manifest, path: str) -> bool:
        """Store version ``man.version`` exactly as another registry published it (a control-plane
        agent's mirror), from the artifact file or unpacked folder at ``path`` (verified against the
        manifest's digest here). True if stored now, False if this very version (same sha256) was
        already there; a different one under that number is ArtifactRejected."""
        if os.path.isdir(path) != (man.artifact_type == "dir"):
            raise ArtifactRejected(f"{man.ref}: the manifest says {man.artifact_type}, {path} is not one")
        base = self._prepare(man.kind, man.name)
        staging = tempfile.mkdtemp(prefix="install-", dir=os.path.join(base, ".staging"))
        try:
            target = os.path.join(staging, man.artifact)
            if man.artifact_type == "dir":
                shutil.copytree(path, target, symlinks=True)  # a symlink would then fail verify()
            else:
                shutil.copyfile(path, target)
            _seal(man, staging, target)
            with locking.exclusive(os.path.join(base, ".lock")):
                final = self._version_dir(man.kind, man.name, man.version)
                if os.path.lexists(final):
                    have = self.manifest(man.kind, man.name, man.version)
                    if have.sha256 != man.sha256:
                        raise ArtifactRejected(f"{man.ref}: this registry already holds a different version "
                                               f"{man.version} (sha256 {have.sha256[:16]}…)")
                    return False
                os.rename(staging, final)
            return True
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging, ignore_errors=True)

    def accept(self, man: Manifest, path: str, channel: Optional[str] = None) -> Manifest:
        """Store a version built elsewhere (``arc registry publish --url``: a client numbered, maybe
        signed, and sent it). It must be this tenant's and numbered one above the latest (else
        VersionTaken: nothing is replaced), its parent must exist; the file or folder at ``path`` is
        moved in and checked against the manifest's digest before the version appears."""
        names.check_kind(man.kind)
        names.check_name(man.name)
        names.check_version(man.version)
        if channel is not None:
            names.check_channel(channel)
        if man.tenant != self.tenant:
            raise ArtifactRejected(f"{man.ref}: the manifest names tenant {man.tenant!r}, this registry is "
                                   f"{self.tenant!r}'s")
        if os.path.isdir(path) != (man.artifact_type == "dir"):
            raise ArtifactRejected(f"{man.ref}: the manifest says {man.artifact_type}, the upload is not one")
        base = self._prepare(man.kind, man.name)
        staging = tempfile.mkdtemp(prefix="accept-", dir=os.path.join(base, ".staging"))
        try:
            target = os.path.join(staging, man.artifact)
            shutil.move(path, target)  # a rename on the same file system
            _seal(man, staging, target)
            with locking.exclusive(os.path.join(base, ".lock")):
                self._check_next(man)
                final = self._version_dir(man.kind, man.name, man.version)
                if os.path.lexists(final):
                    raise VersionTaken(f"{man.ref}: {final} already exists; publish again")
                os.rename(staging, final)
                if channel is not None:
                    self._move(man.kind, man.name, channel, man.version, "promote")
            return man
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging, ignore_errors=True)

    def _check_next(self, man: Manifest) -> None:
        """VersionTaken unless ``man`` is numbered one above the latest; RegistryError for an unknown parent."""
        existing = self.versions(man.kind, man.name)
        expected = (existing[-1] + 1) if existing else 1
        if man.version != expected:
            raise VersionTaken(f"{man.ref}: the next version of {man.kind}/{man.name} is {expected} "
                               "(another publish came first?); publish again")
        if man.parent is not None and man.parent not in existing:
            raise RegistryError(f"{man.ref}: parent version {man.parent} does not exist")

    # -- channels -------------------------------------------------------------------------------------
    def channel(self, kind: str, name: str, channel: str = names.DEFAULT_CHANNEL) -> Optional[ChannelState]:
        """The channel's pointer, or None if it was never set."""
        self._check_private()
        return channels.read(self._pointer(kind, name, channel), kind, name, channel)

    def channels(self, kind: str, name: str) -> Dict[str, ChannelState]:
        folder = os.path.join(self._base(kind, name), "channels")
        try:
            found = sorted(e[:-5] for e in os.listdir(folder) if e.endswith(".json"))
        except FileNotFoundError:
            return {}
        out = {}
        for ch in found:
            state = self.channel(kind, name, ch)
            if state is not None:
                out[ch] = state
        return out

    def history(self, kind: str, name: str, channel: str = names.DEFAULT_CHANNEL) -> List[dict]:
        """The channel's last moves, oldest first (``at``, ``action``, ``from``, ``to``)."""
        state = self.channel(kind, name, channel)
        return list(state.moves) if state is not None else []

    def promote(self, kind: str, name: str, version: Optional[int] = None,
                channel: str = names.DEFAULT_CHANNEL, *, from_channel: Optional[str] = None,
                share: Optional[float] = None) -> ChannelState:
        """Point ``channel`` at ``version`` (or at what ``from_channel`` serves now) after verifying it;
        ``share`` (canary channel only) sets the part of ``stable``'s followers it serves, in the same write."""
        if (version is None) == (from_channel is None):
            raise RegistryError("promote needs exactly one of a version or a channel to promote from")
        if share is not None:
            share = names.check_share(share)
            if channel != names.CANARY_CHANNEL:
                raise RegistryError(f"{kind}/{name}@{channel}: a share is set on the {names.CANARY_CHANNEL} "
                                    f"channel only (the part of {names.DEFAULT_CHANNEL}'s followers it serves)")
        base = self._prepare(kind, name)
        with locking.exclusive(os.path.join(base, ".lock")):
            if version is None:
                source = self.channel(kind, name, from_channel)
                if source is None:
                    raise RegistryError(f"{kind}/{name}@{from_channel}: channel not set, nothing to promote")
                version = source.version
            return self._move(kind, name, channel, names.check_version(version), "promote", share)

    def rollback(self, kind: str, name: str, channel: str = names.DEFAULT_CHANNEL) -> ChannelState:
        """Point ``channel`` back at the version it served before its last promote."""
        base = self._prepare(kind, name)
        with locking.exclusive(os.path.join(base, ".lock")):
            state = self.channel(kind, name, channel)
            if state is None or not state.previous:
                raise RegistryError(f"{kind}/{name}@{channel}: nothing to roll back to "
                                    f"({'channel not set' if state is None else 'no earlier version'})")
            return self._move(kind, name, channel, state.previous[-1], "rollback")

    def _move(self, kind: str, name: str, channel: str, version: int, action: str,
              share: Optional[float] = None) -> ChannelState:
        """Under the name's lock: verify ``version`` and replace the pointer in one step."""
        self.verified(kind, name, version)
        path = self._pointer(kind, name, channel)
        state = channels.read(path, kind, name, channel)
        if state is None:
            at = channels.now_iso()
            state = ChannelState(kind, name, channel, version, at, tenant=self.tenant, share=share,
                                 moves=[{"at": at, "action": action, "from": None, "to": version}])
        elif state.version == version and action == "promote":
            if share is None or share == state.share:
                return state
            state = dataclasses.replace(state, share=share, updated=channels.now_iso())
        elif share is not None:
            state = dataclasses.replace(state.moved(action, version, state.previous + [state.version]), share=share)
        elif action == "rollback":
            state = state.moved(action, version, state.previous[:-1])
        else:
            state = state.moved(action, version, state.previous + [state.version])
        channels.write(path, state)
        return state

    # -- listing --------------------------------------------------------------------------------------
    def list(self, kind: Optional[str] = None, name: Optional[str] = None) -> List[dict]:
        """One entry per artifact name (or just ``name``): kind, name, versions, latest, channels
        ({channel: version}) and shares ({channel: canary share} where one is set)."""
        self._check_private()
        out = []
        for k in [names.check_kind(kind)] if kind else names.KINDS:
            try:
                found = [names.check_name(name)] if name else sorted(os.listdir(os.path.join(self.root, k)))
            except FileNotFoundError:
                continue
            for n in found:
                try:
                    names.check_name(n)
                except RegistryError:
                    continue
                versions = self.versions(k, n)
                chans = self.channels(k, n)
                if name and not versions and not chans:
                    continue
                out.append({"kind": k, "name": n, "versions": len(versions),
                            "latest": versions[-1] if versions else None,
                            "channels": {ch: s.version for ch, s in chans.items()},
                            "shares": {ch: s.share for ch, s in chans.items() if s.share is not None}})
        return out

    def describe(self, kind: str, name: str, version: Optional[int] = None,
                 channel: str = names.DEFAULT_CHANNEL) -> dict:
        """``arc registry show``: a version's manifest (default: what ``channel`` serves), whether its bytes
        verify, and the artifact's channels (version, rollback stack, share, last moves)."""
        if version is None:
            state = self.channel(kind, name, channel)
            if state is None:
                raise RegistryError(f"{kind}/{name}@{channel}: channel not set; give a version")
            version = state.version
        man = self.manifest(kind, name, version)
        try:
            self.verified(kind, name, version)
            verdict = "ok (size and sha256 match)"
        except ArtifactRejected as exc:
            verdict = f"REJECTED: {exc}"
        chans = {ch: {"version": s.version, "previous": s.previous, "share": s.share, "updated": s.updated,
                      "moves": s.moves[-5:]} for ch, s in self.channels(kind, name).items()}
        return {"manifest": man.as_dict(), "verified": verdict, "channels": chans}


def entry_name(path: str) -> str:
    """The artifact's name in the version folder: the source's own (its extension tells the loader
    JSON from YAML), unless that is not a safe name."""
    base = os.path.basename(os.path.normpath(path))
    try:
        if base != MANIFEST:
            return names.check_name(base, "artifact entry")
    except RegistryError:
        pass
    ext = os.path.splitext(base)[1]
    return "artifact" + (ext if ext[1:].isalnum() and len(ext) <= 10 else "")


def _manifest_bytes(man: Manifest) -> bytes:
    try:
        data = man.to_json()
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{man.ref}: metrics/metadata must be JSON values ({exc})") from None
    if len(data) > names.MAX_MANIFEST_BYTES:
        raise RegistryError(f"{man.ref}: manifest (metrics + metadata) larger than {names.MAX_MANIFEST_BYTES} bytes")
    return data


def _seal(man: Manifest, staging: str, target: str) -> None:
    """Check the staged artifact against its manifest, make it read-only and write the manifest beside
    it (synced), so the staging folder is a whole version before it is renamed into place."""
    verify(man, target)
    _make_read_only(target)
    with open(os.path.join(staging, MANIFEST), "xb") as fh:
        fh.write(_manifest_bytes(man))
        fh.flush()
        os.fsync(fh.fileno())


def _make_read_only(path: str) -> None:
    """Published bytes are read-only (0444 files): a version is never edited in place."""
    if os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for f in files:
                os.chmod(os.path.join(root, f), 0o444)
    else:
        os.chmod(path, 0o444)
