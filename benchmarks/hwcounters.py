"""Per-thread hardware counters (instructions, cycles) through Linux ``perf_event_open``, via ctypes.

Why: on a shared machine the CPU time of a call swings by several percent from minute to minute
(other tenants, frequency changes), which hides a 1 % overhead; the number of instructions a call
retires does not swing, and cycles are counted only while the thread runs. User space only
(``exclude_kernel``), so no privilege beyond ``perf_event_paranoid`` <= 2 is needed.
``open_counters`` returns None where the kernel or the VM does not expose the counters.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

_SYSCALL = {"x86_64": 298, "aarch64": 241}.get(platform.machine())
_HARDWARE = 0
_CYCLES, _INSTRUCTIONS = 0, 1
_EXCLUDE_KERNEL_AND_HV = (1 << 5) | (1 << 6)


class _Attr(ctypes.Structure):  # struct perf_event_attr, PERF_ATTR_SIZE_VER5 (112 bytes)
    _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32), ("config", ctypes.c_uint64),
                ("sample_period", ctypes.c_uint64), ("sample_type", ctypes.c_uint64),
                ("read_format", ctypes.c_uint64), ("flags", ctypes.c_uint64), ("wakeup_events", ctypes.c_uint32),
                ("bp_type", ctypes.c_uint32), ("config1", ctypes.c_uint64), ("config2", ctypes.c_uint64),
                ("branch_sample_type", ctypes.c_uint64), ("sample_regs_user", ctypes.c_uint64),
                ("sample_stack_user", ctypes.c_uint32), ("clockid", ctypes.c_int32),
                ("sample_regs_intr", ctypes.c_uint64), ("aux_watermark", ctypes.c_uint32),
                ("sample_max_stack", ctypes.c_uint16), ("reserved", ctypes.c_uint16)]


def _open(config: int, tid: int) -> int:
    attr = _Attr(type=_HARDWARE, size=ctypes.sizeof(_Attr), config=config, flags=_EXCLUDE_KERNEL_AND_HV)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(_SYSCALL, ctypes.byref(attr), tid, -1, -1, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "perf_event_open")
    return fd


class Counters:
    """Instructions and cycles of one thread; ``read()`` -> (instructions, cycles)."""

    def __init__(self, tid: int = 0) -> None:
        self.fds = (_open(_INSTRUCTIONS, tid), _open(_CYCLES, tid))

    def read(self) -> tuple:
        i, c = self.fds
        return struct.unpack("q", os.read(i, 8))[0], struct.unpack("q", os.read(c, 8))[0]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def open_counters(tid: int = 0) -> Counters | None:
    """Counters for thread ``tid`` (0 = the calling thread), or None if unavailable here."""
    if _SYSCALL is None:
        return None
    try:
        return Counters(tid)
    except OSError:
        return None


def thread_ids() -> list:
    """Kernel ids of this process's threads right now."""
    return [int(t) for t in os.listdir("/proc/self/task")]
