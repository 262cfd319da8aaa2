"""Per-thread hardware counters (instructions, cycles) through Linux ``perf_event_open``, via ctypes.

Why: on a shared machine the CPU time of a call swings by several percent from minute to minute
(other tenants, frequency changes), which hides a 1 % overhead; the number of instructions a call
retires does not swing, and cycles are counted only while the thread runs. User space only
(``exclude_kernel``), so no privilege beyond ``perf_event_paranoid`` <= 2 is needed.
``open_counters`` returns None where the kernel or the VM does not expose the counters.

Reads keep the GIL (``ctypes.PyDLL``): ``os.read`` would release and retake it around each read,
and in a one-thread app loop those releases are where a waiting background thread (the span
exporter) is woken only to lose the race for the GIL again, a futex round trip each time: the
measurement itself would add system time to the very threads it measures.
"""

from __future__ import annotations

import ctypes
import os
import platform

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


_read_holding_gil = ctypes.PyDLL(None).read
_read_holding_gil.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.c_size_t)
_read_holding_gil.restype = ctypes.c_ssize_t


class Counters:
    """Instructions and cycles of one thread; ``read()`` -> (instructions, cycles)."""

    def __init__(self, tid: int = 0) -> None:
        self.fds = (_open(_INSTRUCTIONS, tid), _open(_CYCLES, tid))
        self._buf = ctypes.c_int64()
        self._ptr = ctypes.pointer(self._buf)

    def read(self) -> tuple:
        i, c = self.fds
        buf, ptr = self._buf, self._ptr
        if _read_holding_gil(i, ptr, 8) != 8:
            raise OSError("perf counter read failed")
        instructions = buf.value
        if _read_holding_gil(c, ptr, 8) != 8:
            raise OSError("perf counter read failed")
        return instructions, buf.value

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
