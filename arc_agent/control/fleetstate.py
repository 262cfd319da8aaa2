"""``arc serve``'s fleet table (what ``arc fleet`` lists), kept on disk so a restarted server still
knows its agents.

One file per tenant, ``STATE/fleet-<tenant>.pb`` (a serialized ``FleetReply``), written atomically
(temp file + rename, mode 0600) at most every ``flush_s`` and when the server stops. Bounded: at most
``max_per_tenant`` records per tenant (the least recently seen goes first, disconnected ones before
connected ones), records not heard from for ``ttl_s`` are dropped, a file larger than MAX_FILE is
not read. Records loaded at start are ``stale`` and not connected until the agent comes back.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from typing import Dict, Iterable, List, Optional, Set, Tuple

from google.protobuf.message import DecodeError

from ..fsutil import atomic_write
from ..registry import names
from .gen import control_pb2 as pb

log = logging.getLogger("arc.serve")

MAX_PER_TENANT = 10_000
TTL_S = 7 * 86400.0
FLUSH_S = 1.0
MAX_FILE = 64 << 20
PREFIX, SUFFIX = "fleet-", ".pb"


_AGENTS_TAG = bytes([(2 << 3) | 2])
"""``FleetReply.agents`` (field 2, length-delimited) on the protobuf wire: the file is the FleetReply of
the records' cached encodings, written without re-encoding the unchanged ones."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def last_seen(record: pb.AgentRecord) -> float:
    return max(record.last_report_unix, record.connected_unix)


class FleetTable:
    def __init__(self, state_dir: Optional[str], max_per_tenant: int = MAX_PER_TENANT, ttl_s: float = TTL_S,
                 flush_s: float = FLUSH_S) -> None:
        self.state_dir = state_dir
        self.max_per_tenant = max_per_tenant
        self.ttl_s = ttl_s
        self.flush_s = flush_s
        self.tenants: Dict[str, Dict[str, pb.AgentRecord]] = {}
        self.dirty: Set[str] = set()
        self._changed: Dict[str, Set[str]] = {}
        self._encoded: Dict[str, Dict[str, bytes]] = {}
        """Each record's serialized bytes, redone only for the records changed since the last snapshot."""
        self._flushed = 0.0
        self._seq = itertools.count(1)
        self._written: Dict[str, int] = {}
        self._write_lock = threading.Lock()

    # -- records ---------------------------------------------------------------------------------------
    def get(self, tenant: str, instance_id: str) -> Optional[pb.AgentRecord]:
        return self.tenants.get(tenant, {}).get(instance_id)

    def touch(self, tenant: str, instance_id: str, service: str, version: str, follows: Optional[Iterable],
              connected: bool) -> pb.AgentRecord:
        """The agent's record, created if new (evicting when the tenant is full), marked live again."""
        records = self.tenants.setdefault(tenant, {})
        record = records.get(instance_id)
        if record is None:
            if len(records) >= self.max_per_tenant:
                self._evict(tenant, records)
            record = records[instance_id] = pb.AgentRecord(tenant=tenant, instance_id=instance_id)
        record.service_name, record.arc_version, record.stale = service, version, False
        if follows is not None:
            del record.follows[:]
            record.follows.extend(follows)
        if connected:
            record.connected, record.connected_unix = True, time.time()
        self._mark(tenant, instance_id)
        return record

    def _mark(self, tenant: str, instance_id: str) -> None:
        if not self.state_dir:  # nothing is ever written: keep no trail
            return
        self.dirty.add(tenant)
        self._changed.setdefault(tenant, set()).add(instance_id)

    def report(self, tenant: str, status: pb.AgentStatus) -> None:
        record = self.touch(tenant, status.instance_id, status.service_name, status.arc_version, None, False)
        record.status.CopyFrom(status)
        record.last_report_unix = time.time()

    def disconnected(self, tenant: str, instance_id: str) -> None:
        record = self.get(tenant, instance_id)
        if record is not None:
            record.connected = False
            self._mark(tenant, instance_id)

    def listing(self, tenant: str) -> List[pb.AgentRecord]:
        self._expire(tenant, time.time())
        return [r for _, r in sorted(self.tenants.get(tenant, {}).items())]

    def _evict(self, tenant: str, records: Dict[str, pb.AgentRecord]) -> None:
        oldest = min(records.values(), key=lambda r: (r.connected, last_seen(r)))
        log.warning("arc serve: tenant %s has %d agents (the most kept): forgetting %s, seen least recently",
                    tenant, len(records), oldest.instance_id)
        del records[oldest.instance_id]
        self._mark(tenant, oldest.instance_id)

    def _expire(self, tenant: str, now: float) -> None:
        records = self.tenants.get(tenant, {})
        old = [k for k, r in records.items() if not r.connected and now - last_seen(r) > self.ttl_s]
        for key in old:
            del records[key]
            self._mark(tenant, key)

    # -- disk ------------------------------------------------------------------------------------------
    def _path(self, tenant: str) -> str:
        return os.path.join(self.state_dir or "", f"{PREFIX}{tenant}{SUFFIX}")

    def load(self) -> int:
        """Read every tenant's file; returns the number of records kept (stale, not connected)."""
        if not self.state_dir or not os.path.isdir(self.state_dir):
            return 0
        now, count = time.time(), 0
        for entry in sorted(os.listdir(self.state_dir)):
            if not (entry.startswith(PREFIX) and entry.endswith(SUFFIX)):
                continue
            tenant = entry[len(PREFIX):-len(SUFFIX)]
            path = os.path.join(self.state_dir, entry)
            try:
                names.check_name(tenant, "tenant")
                with open(path, "rb") as fh:
                    data = fh.read(MAX_FILE + 1)
                if len(data) > MAX_FILE:
                    raise ValueError(f"larger than {MAX_FILE} bytes")
                reply = pb.FleetReply.FromString(data)
            except (OSError, ValueError, DecodeError) as exc:  # RegistryError is a ValueError
                log.error("arc serve: fleet state %s not loaded: %s", path, exc)
                continue
            records = self.tenants.setdefault(tenant, {})
            fresh = sorted((r for r in reply.agents if r.tenant == tenant and 0 < len(r.instance_id) <= 128
                            and now - last_seen(r) <= self.ttl_s), key=last_seen)[-self.max_per_tenant:]
            for r in fresh:
                r.connected, r.stale = False, True
                records[r.instance_id] = r
            count += len(fresh)
        return count

    def due(self, now: float) -> bool:
        return bool(self.dirty) and bool(self.state_dir) and now - self._flushed >= self.flush_s

    def snapshot(self) -> Dict[str, Tuple[int, bytes]]:
        """{tenant: (sequence, file bytes)} of the tenants changed since the last one (serialized in the
        event loop's thread, so no record changes under it)."""
        now = time.time()
        self._flushed = now
        seq = next(self._seq)
        out = {}
        for tenant in sorted(self.dirty):
            self._expire(tenant, now)
            records = self.tenants.get(tenant, {})
            encoded = self._encoded.setdefault(tenant, {})
            for key in self._changed.pop(tenant, ()):
                encoded.pop(key, None)
            parts = [pb.FleetReply(tenant=tenant).SerializeToString()]
            for key in sorted(records):
                data = encoded.get(key)
                if data is None:
                    data = encoded[key] = records[key].SerializeToString()
                parts.append(_AGENTS_TAG + _varint(len(data)) + data)
            out[tenant] = seq, b"".join(parts)
        self.dirty.clear()
        return out

    def write(self, files: Dict[str, Tuple[int, bytes]]) -> None:
        """Write a ``snapshot()`` (from a worker thread, or at stop while one may still run: an older
        snapshot never replaces a newer one); a failure is logged, the server goes on."""
        if not self.state_dir:
            return
        with self._write_lock:
            try:
                os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
                for tenant, (seq, data) in files.items():
                    if seq < self._written.get(tenant, 0):
                        continue
                    if len(data) > MAX_FILE:
                        log.error("arc serve: fleet state of tenant %s is over %d bytes; not written", tenant,
                                  MAX_FILE)
                        continue
                    atomic_write(self._path(tenant), [data])
                    self._written[tenant] = seq
            except OSError as exc:
                log.error("arc serve: cannot write the fleet state to %s: %s", self.state_dir, exc)
