"""The side-car's cost: latency added per request (p50/p99) and requests/s, direct vs through
``arc proxy``, on this machine's cores.

``arc dev-llm`` (its own process) answers; ``arc proxy`` (its own process, on a unix socket, with
the demo pattern bundle loaded and every span exported to a counting OTLP receiver in a third
process) forwards. Plain httpx clients in this process measure:

- latency: ``--requests`` sequential non-streamed chat completions on one keep-alive connection,
  alternating direct and proxied in blocks of 20 so load swings hit both alike;
- time to first streamed chunk, the same way (``--streams`` of each);
- throughput: ``--concurrency`` aiohttp clients for ``--seconds`` each, direct then proxied, and
  the proxy process's CPU time per request (what bounds its requests/s); then the same through a
  proxy with ``ARC_DISABLE=1`` (relay only), which splits that CPU between relaying and Arc.

    python benchmarks/sidecar.py [--requests 1000] [--streams 100] [--concurrency 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cpu_1k_qps import RECEIVER  # noqa: E402  (the counting OTLP receiver)

from tests.helpers.collector import arc_command  # noqa: E402
from tests.helpers.procs import clean_env  # noqa: E402
from tests.helpers.proxy import ProxyProcess  # noqa: E402

BODY = {"model": "gpt-4", "temperature": 0.95, "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say hello"}]}
HEADERS = {"Authorization": "Bearer sk-bench"}


def pct(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_devllm() -> tuple:
    proc = subprocess.Popen(arc_command("dev-llm", "--port", "0", "--log-size", "0"), stdout=subprocess.PIPE,
                            text=True, env=clean_env())
    line = proc.stdout.readline()
    return proc, line.split()[-1]


def timed(client: httpx.Client, url: str, stream: bool) -> float:
    t0 = time.perf_counter()
    if stream:
        with client.stream("POST", url, json=dict(BODY, stream=True), headers=HEADERS) as r:
            for _ in r.iter_raw():
                return time.perf_counter() - t0
    r = client.post(url, json=BODY, headers=HEADERS)
    assert r.status_code == 200, r.text
    return time.perf_counter() - t0


def latencies(direct_url: str, sock: str, n: int, stream: bool) -> tuple:
    d, p = [], []
    with httpx.Client(timeout=30) as plain, httpx.Client(transport=httpx.HTTPTransport(uds=sock), timeout=30) as via:
        for _ in range(5):  # warm both paths
            timed(plain, direct_url, stream), timed(via, "http://localhost/v1/chat/completions", stream)
        for i in range(0, n, 20):
            d += [timed(plain, direct_url, stream) for _ in range(min(20, n - i))]
            p += [timed(via, "http://localhost/v1/chat/completions", stream) for _ in range(min(20, n - i))]
    return d, p


async def _throughput(session: aiohttp.ClientSession, url: str, concurrency: int, seconds: float) -> float:
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            async with session.post(url, json=BODY, headers=HEADERS) as r:
                assert r.status == 200
                await r.read()
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - t0)


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(direct_url: str, sock: str, concurrency: int, seconds: float, proxy_pid: int) -> tuple:
    """(direct req/s, proxied req/s, the proxy's CPU seconds per proxied request); aiohttp clients
    (cheaper than httpx's async client, so the client is not what is measured)."""

    async def run() -> tuple:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as plain:
            direct = await _throughput(plain, direct_url, concurrency, seconds)
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(sock, limit=concurrency)) as via:
            cpu0, t0 = cpu_seconds(proxy_pid), time.perf_counter()
            proxied = await _throughput(via, "http://localhost/v1/chat/completions", concurrency, seconds)
            cpu = (cpu_seconds(proxy_pid) - cpu0) / (proxied * (time.perf_counter() - t0))
        return direct, proxied, cpu

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
    otlp_port = receiver.stdout.readline().strip()
    devllm, base = start_devllm()
    direct_url = base + "/v1/chat/completions"
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "arc.sock")
        env = clean_env(ARC_PATTERNS="demo", OTEL_EXPORTER_OTLP_ENDPOINT=f"127.0.0.1:{otlp_port}")
        with ProxyProcess(["--unix", sock, "--upstream", base + "/v1"], env) as proxy:
            print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
            for label, stream, n in (("request", False, args.requests), ("first chunk", True, args.streams)):
                d, p = latencies(direct_url, sock, n, stream)
                d50, p50, d99, p99 = (pct(d, 0.5) * 1e3, pct(p, 0.5) * 1e3, pct(d, 0.99) * 1e3,
                                      pct(p, 0.99) * 1e3)
                print(f"{label:11s} ({n} each): direct p50 {d50:.2f} ms p99 {d99:.2f} ms | proxy p50 {p50:.2f} ms "
                      f"p99 {p99:.2f} ms | added p50 {p50 - d50:+.2f} ms, p99 {p99 - d99:+.2f} ms "
                      f"(mean added {(statistics.mean(p) - statistics.mean(d)) * 1e3:+.2f} ms)")
            direct, proxied, cpu = throughput(direct_url, sock, args.concurrency, args.seconds, proxy.proc.pid)
            print(f"throughput ({args.concurrency} concurrent clients, {args.seconds:g} s each): direct "
                  f"{direct:.0f} req/s, proxy {proxied:.0f} req/s ({proxied / direct:.2f}x); proxy CPU "
                  f"{cpu * 1e3:.2f} ms per request (one core's worth: ~{1 / cpu:.0f} req/s)")
        with ProxyProcess(["--unix", sock, "--upstream", base + "/v1"], dict(env, ARC_DISABLE="1")) as bare:
            direct, proxied, cpu = throughput(direct_url, sock, args.concurrency, args.seconds, bare.proc.pid)
            print(f"  the same with ARC_DISABLE=1 (relay only): direct {direct:.0f} req/s, proxy {proxied:.0f} "
                  f"req/s ({proxied / direct:.2f}x); proxy CPU {cpu * 1e3:.2f} ms per request")
        receiver.stdin.write("\n")  # the proxy has stopped: its last spans were flushed
        receiver.stdin.flush()
        print(f"spans received: {receiver.stdout.readline().strip()}")
    devllm.terminate()
    receiver.terminate()
    devllm.wait()
    receiver.wait()


if __name__ == "__main__":
    main()
