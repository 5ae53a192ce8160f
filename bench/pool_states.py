"""What a benchmark worker's pool processes are doing, sampled from /proc while it runs.

    python bench/pool_states.py [--hz 20] [--queue-prefix bench-]

Start it next to `bench/recaps.py` (or any bench whose worker consumes a `bench-*` queue): it
waits for that worker, then samples each pool process HZ times a second until the worker
exits: running (or ready to run), or asleep in a system call, with what it waits on (the
pool's pipe: the next task; PostgreSQL's or Redis's socket; a file being fsynced). The last
line is one JSON object: the share of samples per state for the whole run and for the middle
(between the first and the last 5 s), and the pool's cores running and crowded out
(/proc/PID/schedstat). Linux x86-64 only (system call numbers).
"""

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

SYSCALLS = {0: "read", 1: "write", 7: "poll", 45: "recvfrom", 47: "recvmsg", 74: "fsync",
            75: "fdatasync", 202: "futex", 230: "clock_nanosleep", 232: "epoll_wait",
            271: "ppoll", 281: "epoll_pwait"}  # fmt: skip
WITH_FD = {"read", "write", "recvfrom", "recvmsg", "fsync", "fdatasync"}
PORTS = {5432: "postgresql", 6379: "redis"}


def find_worker(prefix: str) -> int:
    """The pid of the Celery worker consuming a queue named prefix*, once it runs."""
    while True:
        for entry in Path("/proc").iterdir():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"celery_worker" in args and any(a.startswith(prefix.encode()) for a in args):
                return int(entry.name)
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The process's children (the prefork pool)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def socket_ports() -> dict[str, int]:
    """Remote TCP port of every socket, by inode."""
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            ports[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return ports


def state(pid: int, ports: dict[str, int]) -> str | None:
    """What the process is doing now; None once it is gone."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
            return "running"
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return None
    if call[0] in ("running", "-1"):
        return "running" if call[0] == "running" else "asleep"
    name = SYSCALLS.get(int(call[0]), f"syscall {call[0]}")
    if name not in WITH_FD:
        return name
    try:
        target = os.readlink(f"/proc/{pid}/fd/{int(call[1], 16)}")
    except OSError:
        return name
    if target.startswith("socket:["):
        port = ports.get(target[8:-1])
        target = PORTS.get(port, f"port {port}")
    elif target.startswith("pipe:"):
        target = "pipe"
    else:
        target = "file"
    return f"{name} {target}"


def sched_s(pids: list[int]) -> tuple[float, float]:
    """Seconds run and seconds ready but waiting for a core, summed over the processes."""
    ran = waited = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/schedstat").read_text().split()
        except OSError:
            continue
        ran, waited = ran + int(fields[0]), waited + int(fields[1])
    return ran / 1e9, waited / 1e9


def shares(counts: Counter) -> dict[str, float]:
    """Each state's share of the samples."""
    total = sum(counts.values()) or 1
    return {name: round(n / total, 3) for name, n in counts.most_common()}


def main() -> None:
    """Wait for the worker, sample its pool until it exits, print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hz", type=float, default=20)
    parser.add_argument("--queue-prefix", default="bench-")
    args = parser.parse_args()
    worker = find_worker(args.queue_prefix)
    while len(pool := children(worker)) < 2:
        time.sleep(0.2)
    started, (ran0, waited0) = time.monotonic(), sched_s(pool)
    samples, ports, (ran, waited), next_second = [], socket_ports(), (ran0, waited0), 1.0
    while Path(f"/proc/{worker}").exists():
        second = time.monotonic() - started
        if second >= next_second:  # sockets opened since, and the pool's times while it lives
            ports, next_second = socket_ports(), next_second + 1
            ran, waited = map(max, zip((ran, waited), sched_s(pool), strict=True))
        samples += [(second, s) for s in (state(p, ports) for p in pool) if s]
        time.sleep(1 / args.hz)
    wall = time.monotonic() - started
    end = samples[-1][0] if samples else 0
    middle = Counter(s for t, s in samples if 5 <= t <= end - 5)
    print(
        json.dumps(
            {
                "wall_s": round(wall, 1),
                "pool_cores_running": round((ran - ran0) / wall, 2),
                "pool_cores_crowded_out": round((waited - waited0) / wall, 2),
                "states_whole_run": shares(Counter(s for _, s in samples)),
                "states_middle": shares(middle),
                "load_avg_1m": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
