#!/usr/bin/env python3
"""Figures for the pagefs mount (prints them; never passes or fails).

    python3 scripts/bench_mount.py [--scale 0.1] [--cache-size 64M] [--keep DIR] [--skip-ls]
        [--seed-n N] [--seed-cache SIZE] [--lst-n N] [--lst-cache SIZE]

In one run, on a store built through the mount:
  1. sequential read MB/s of PREFIX/data through the mount, against reading
     the store's segment files directly (same bytes, same 1 MiB reads);
  2. 4 KiB random reads/s through the mount against direct preads of the
     segment files (random page slots): over the whole file, then hot (a
     range a quarter of the budget, read once first);
  3. `ls -l PREFIX/pages` for a store of N pages (N = 1M at --scale 1);
  4. the seed scenario (--seed-n strings of 12 characters in batches of 50k,
     --seed-cache budget) embedded and through the mount: time (init, extends,
     commit and close; making the strings excluded), peak resident memory of
     the Python process (VmHWM) and of the daemon (sampled);
  5. random `lst[i]` over --lst-n strings, hot: one embedded process against
     one and then four reader processes at once through the mount (each
     reading its own mapping of committed), the four against four embedded
     read-only processes at once (the same load on the CPUs), and the four
     readers' summed proportional set size (PSS, /proc/PID/smaps_rollup)
     against the one embedded process's and the four embedded ones' (the
     readers share the kernel's one copy of each page; embedded processes
     each cache their own).
Both sides read with the host page cache warm for the segment files (the
daemon reads them too), so the comparison is the cost of the FUSE path and
the engine (page table, checksum, cache) against plain preads.

The daemon is $PAGEFS_MOUNT_BIN, else build/bench/fs/pagefs-mount (built
with CMake if missing).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / "pybind" / "pagefs" / "cli.py"
PAGE = 4096
MIB = 1 << 20


def daemon_bin() -> str:
    explicit = os.environ.get("PAGEFS_MOUNT_BIN")
    if explicit:
        return explicit
    build = REPO / "build" / "bench"
    binary = build / "fs" / "pagefs-mount"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), *gen, "-DCMAKE_BUILD_TYPE=Release",
                    "-DPAGEFS_BUILD_TESTS=OFF"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "pagefs-mount"], check=True,
                   capture_output=True)
    return str(binary)


class Mounted:
    def __init__(self, root: Path, mnt: Path, cache_size: str, env: dict):
        self.root, self.mnt, self.cache_size, self.env = root, mnt, cache_size, env

    def __enter__(self):
        r = subprocess.run([sys.executable, str(CLI), "mount", str(self.root), str(self.mnt),
                            "-o", f"cache_size={self.cache_size}"], env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"mount failed: {r.stderr.strip()}")
        return self

    def __exit__(self, *exc):
        r = subprocess.run([sys.executable, str(CLI), "umount", str(self.mnt)], env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["fusermount3", "-uz", str(self.mnt)])

    def stats(self) -> dict:
        return json.loads((self.mnt / ".stats").read_bytes())

    def rss_mib(self) -> float:
        pid = self.stats()["pid"]
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


def fill(path: Path, pages: int) -> None:
    """Pages 1..pages of recognisable bytes, in 1 MiB writes, then fsync (commit)."""
    chunk = bytes(range(256)) * (MIB // 256)
    fd = os.open(path, os.O_RDWR)
    try:
        end = (pages + 1) * PAGE
        off = PAGE
        while off < end:
            n = min(MIB, end - off)
            os.pwrite(fd, chunk[:n], off)
            off += n
        os.fsync(fd)
    finally:
        os.close(fd)


def seq_read(paths: list[str], block=MIB) -> tuple[int, float]:
    total, start = 0, time.perf_counter()
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            while True:
                b = os.read(fd, block)
                if not b:
                    break
                total += len(b)
        finally:
            os.close(fd)
    return total, time.perf_counter() - start


def drop_from_page_cache(paths: list[str], sync: bool = True) -> None:
    """Evicts just these files from the host page cache (no system-wide drop).
    sync=False for the mount's files (an fsync there asks the daemon to commit)."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            if sync:
                os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def random_reads(targets: list[tuple[int, int]], count: int, seed=7) -> float:
    """targets: (fd, pages in it); returns reads per second."""
    rng = random.Random(seed)
    picks = [(fd, rng.randrange(1 if i == 0 else 0, n)) for i, (fd, n) in
             enumerate(rng.choice(targets) for _ in range(count))]
    start = time.perf_counter()
    for fd, page in picks:
        os.pread(fd, PAGE, page * PAGE)
    return count / (time.perf_counter() - start)


def hot_random_reads(m: "Mounted", data: str, segments: list[str], budget: int) -> None:
    """4 KiB random reads of a range a quarter of the budget (inside what the
    kernel may hold for the mount), each page read once first: hot, served by
    the kernel's page cache. Direct: the same number of pages of the segment
    files, warm in the host page cache."""
    pages = max(256, budget // 4 // PAGE)
    count = 200_000
    mfd = os.open(data, os.O_RDONLY)
    sfd = os.open(segments[0], os.O_RDONLY)
    try:
        targets = [(mfd, pages + 1), (sfd, min(pages, os.path.getsize(segments[0]) // PAGE))]
        for fd, n in targets:
            for page in range(n):  # warm
                os.pread(fd, PAGE, page * PAGE)
        before = m.stats()
        mount_rps = random_reads(targets[:1], count, seed=11)
        after = m.stats()
        direct_rps = random_reads(targets[1:], count, seed=11)
    finally:
        os.close(mfd)
        os.close(sfd)
    served = (after["hits"] + after["misses"]) - (before["hits"] + before["misses"])
    print(f"4 KiB random reads, hot ({pages * PAGE / MIB:.0f} MiB, read once first): mount "
          f"{mount_rps:,.0f}/s, direct {direct_rps:,.0f}/s -> "
          f"{100 * mount_rps / direct_rps:.0f}%  [{served:,} of {count:,} reached the daemon]")


SEED_CODE = r"""
import random, string, sys, time
import pagefs
root, n, batch, cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(1)
chars = string.ascii_letters + string.digits
def vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
# Strings are made batch by batch, as the scenario does; making them is not timed.
elapsed = 0.0
t = time.perf_counter()
pagefs.init(root, prefix="data", cache_size=cache)
lst = pagefs.list()
elapsed += time.perf_counter() - t
probe = None
for k in range(n // batch):
    b = ["".join(rng.choices(chars, k=12)) for _ in range(batch)]
    if k == 12313 // batch:
        probe = b[12313 % batch]
    t = time.perf_counter()
    lst.extend(b)
    elapsed += time.perf_counter() - t
t = time.perf_counter()
pagefs.root()["results"] = lst
del lst
pagefs.close()
elapsed += time.perf_counter() - t
t1 = time.perf_counter()
pagefs.init(root, prefix="data", cache_size=cache)
lst = pagefs.root()["results"]
first = lst[12313]
reopen_ms = (time.perf_counter() - t1) * 1000
assert len(lst) == n - n % batch, len(lst)
assert first == probe, first
pagefs.close()
print(f"{elapsed:.3f} {vm('VmHWM:'):.1f} {reopen_ms:.2f}")
"""


LST_CODE = r"""
import random, sys, time
import pagefs
root, n, count, cache, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
with pagefs.Store(root, "data", read_only=True, cache_size=cache) as s:
    lst = s.root()["lst"]
    assert len(lst) == n
    t = time.perf_counter()
    for k in range(0, n, 50_000):  # warm: every page read once
        lst[k:k + 50_000]
    warm = time.perf_counter() - t
    rng = random.Random(seed)
    picks = [rng.randrange(n) for _ in range(count)]
    sys.stdout.write("ready\n"); sys.stdout.flush()
    sys.stdin.readline()  # the readers start together
    t = time.perf_counter()
    for i in picks:
        lst[i]
    dt = time.perf_counter() - t
    assert lst[picks[0]] == "s%011d" % picks[0]
    sys.stdout.write(f"{count / dt:.0f} {warm:.3f}\n"); sys.stdout.flush()
    sys.stdin.readline()  # alive until the parent has read its PSS
"""


def pss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def lst_readers(root: Path, n: int, count: int, cache: str, readers: int) -> tuple:
    """Runs readers processes of LST_CODE at once; returns (ops/s of each,
    summed PSS MiB measured while all are alive after their timed part,
    seconds each took to warm up: a scan of the whole list)."""
    procs = [subprocess.Popen([sys.executable, "-c", LST_CODE, str(root), str(n), str(count),
                               cache, str(k)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for k in range(readers)]
    try:
        for p in procs:
            if p.stdout.readline() != "ready\n":
                raise SystemExit(f"lst reader failed in {root}")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        lines = [p.stdout.readline().split() for p in procs]
        rates, warm = [float(r) for r, _ in lines], [float(w) for _, w in lines]
        pss = sum(pss_mib(p.pid) for p in procs)
        for p in procs:
            p.stdin.write("exit\n")
            p.stdin.flush()
        for p in procs:
            if p.wait(timeout=120) != 0:
                raise SystemExit(f"lst reader failed in {root}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return rates, pss, warm


def lst_random(work: Path, n: int, cache_size: str, env: dict) -> None:
    """Part 5: random lst[i], embedded against 1 and 4 readers through the mount."""
    import pagefs

    root, mnt = work / "lst-root", work / "lst-mnt"
    (root / "data").mkdir(parents=True, exist_ok=True)
    mnt.mkdir(exist_ok=True)
    t = time.perf_counter()
    with pagefs.Store(root, "data", cache_size=cache_size) as s:
        lst = s.list()
        for k in range(0, n, 100_000):
            lst.extend("s%011d" % i for i in range(k, min(n, k + 100_000)))
        s.root()["lst"] = lst
        del lst
    print(f"built a list of {n:,} strings embedded in {time.perf_counter() - t:.1f} s")
    count = 200_000
    embedded, embedded_pss, embedded_warm = lst_readers(root, n, count, cache_size, 1)
    # Four embedded read-only openers at once: the same load on the CPUs as
    # four readers through the mount, each with a cache of its own.
    embedded4, embedded4_pss, embedded4_warm = lst_readers(root, n, count, cache_size, 4)
    with Mounted(root, mnt, cache_size, env):
        one, _, one_warm = lst_readers(mnt, n, count, cache_size, 1)
        four, four_pss, four_warm = lst_readers(mnt, n, count, cache_size, 4)
    bare = subprocess.Popen([sys.executable, "-c", "import sys, pagefs; sys.stdin.readline()"],
                            stdin=subprocess.PIPE, text=True)
    time.sleep(1.0)
    bare_pss = pss_mib(bare.pid)
    bare.communicate("exit\n")
    e = embedded[0]
    e4 = statistics.median(embedded4)
    print(f"random lst[i] over {n:,} strings, hot, budget {cache_size}: embedded {e:,.0f}/s; "
          f"mount, 1 reader {one[0]:,.0f}/s ({one[0] / e:.2f} of embedded); mount, 4 readers "
          f"at once {', '.join(f'{r:,.0f}' for r in four)}/s (per process "
          f"{min(four) / e:.2f}-{max(four) / e:.2f} of one embedded process; {os.cpu_count()} CPUs)")
    print(f"4 embedded readers at once {', '.join(f'{r:,.0f}' for r in embedded4)}/s: the mount's "
          f"4 readers per process {statistics.median(four) / e4:.2f} of them (median; "
          f"{min(four) / e4:.2f}-{max(four) / e4:.2f})")
    print(f"warm-up (a scan of the whole list, cold): embedded {embedded_warm[0]:.2f} s, "
          f"4 embedded at once {max(embedded4_warm):.2f} s; mount, 1 reader "
          f"{one_warm[0]:.2f} s (the daemon cold), 4 readers at once {max(four_warm):.2f} s "
          f"(slowest)")
    print(f"PSS: the 4 mount readers together {four_pss:.0f} MiB, one embedded process "
          f"{embedded_pss:.0f} MiB -> {four_pss / embedded_pss:.2f}x, 4 embedded readers "
          f"{embedded4_pss:.0f} MiB (an idle interpreter with "
          f"pagefs imported: {bare_pss:.0f} MiB each, so beyond that {four_pss - 4 * bare_pss:.0f} "
          f"against {embedded_pss - bare_pss:.0f} MiB)")


def seed_run(root: Path, n: int, batch: int, cache: int, daemon: "Mounted | None") -> tuple:
    """Runs the seed scenario in a fresh process; returns (seconds, process
    peak MiB, reopen-to-first-read ms, daemon peak MiB or None)."""
    proc = subprocess.Popen([sys.executable, "-c", SEED_CODE, str(root), str(n), str(batch),
                             str(cache)], stdout=subprocess.PIPE, text=True)
    daemon_peak = None
    while proc.poll() is None:
        if daemon is not None:
            daemon_peak = max(daemon_peak or 0.0, daemon.rss_mib())
        time.sleep(0.1)
    out = proc.stdout.read().split()
    proc.stdout.close()
    if proc.returncode != 0 or len(out) != 3:
        raise SystemExit(f"seed scenario failed in {root}")
    return float(out[0]), float(out[1]), float(out[2]), daemon_peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1,
                    help="1 = 1 GiB sequential store and 1M pages for ls -l (default 0.1)")
    ap.add_argument("--cache-size", default="64M", help="the daemon's budget (default 64M)")
    ap.add_argument("--keep", help="build the stores in this folder and keep them")
    ap.add_argument("--skip-ls", action="store_true",
                    help="skip part 3 (ls -l of a big pages/ folder), for quick read figures")
    ap.add_argument("--seed-n", type=int, default=5_000_000,
                    help="strings in part 4, the seed scenario (default 5M; 0 skips it)")
    ap.add_argument("--seed-cache", default="128M", help="budget of part 4 (default 128M)")
    ap.add_argument("--lst-n", type=int, default=5_000_000,
                    help="strings in part 5, random lst[i] (default 5M; 0 skips it)")
    ap.add_argument("--lst-cache", default="256M",
                    help="budget of part 5, embedded and the daemon's (default 256M: all hot)")
    args = ap.parse_args()

    env = dict(os.environ, PAGEFS_MOUNT_BIN=daemon_bin())
    work = Path(args.keep or tempfile.mkdtemp(prefix="pagefs-bench-"))
    seq_pages = max(1024, int(args.scale * (1 << 30) / PAGE))
    ls_pages = max(1000, int(args.scale * 1_000_000))
    print(f"pagefs mount benchmark: scale {args.scale}, budget {args.cache_size}, in {work}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    # 1 + 2: sequential and random reads.
    root, mnt = work / "seq", work / "seq-mnt"
    (root / "data").mkdir(parents=True, exist_ok=True)
    mnt.mkdir(exist_ok=True)
    with Mounted(root, mnt, args.cache_size, env) as m:
        t = time.perf_counter()
        fill(mnt / "data" / "data", seq_pages)
        dt = time.perf_counter() - t
        print(f"write {seq_pages * PAGE / MIB:.0f} MiB through the mount + fsync: "
              f"{seq_pages * PAGE / MIB / dt:.0f} MB/s")
    segments = sorted(glob.glob(str(root / "data" / "segment-*.pfs")))
    seq_read(segments)  # warm the host page cache for both sides
    with Mounted(root, mnt, args.cache_size, env) as m:
        data = str(mnt / "data" / "data")
        # Three passes each, alternating: the figure is the median ratio (a
        # best pass is never the figure), with the range beside it.
        mount_runs, direct_runs = [], []
        for _ in range(3):
            n, dt = seq_read([data])
            mount_runs.append(n / MIB / dt)
            dn, ddt = seq_read(segments)
            direct_runs.append(dn / MIB / ddt)
        rss = m.rss_mib()
        ratios = sorted(100 * a / b for a, b in zip(mount_runs, direct_runs))
        print(f"sequential read, 1 MiB reads, segment files in the host page cache: mount "
              f"{statistics.median(mount_runs):.0f} MB/s, segment files directly "
              f"{statistics.median(direct_runs):.0f} MB/s (medians of 3 alternating passes) -> "
              f"mount/direct {ratios[1]:.0f}% [{ratios[0]:.0f}-{ratios[2]:.0f}]"
              f"  [{n / MIB:.0f} MiB; daemon RSS {rss:.0f} MiB]")
        # Cold: neither the segment files nor the kernel's cache of the mount's
        # data hold the pages (the daemon may still hold up to its budget).
        drop_from_page_cache(segments)
        drop_from_page_cache([data], sync=False)
        n, dt = seq_read([data])
        cold_mount = n / MIB / dt
        drop_from_page_cache(segments)
        dn, ddt = seq_read(segments)
        cold_direct = dn / MIB / ddt
        print(f"sequential read, segment files evicted from the host page cache first: mount "
              f"{cold_mount:.0f} MB/s, directly {cold_direct:.0f} MB/s -> "
              f"{100 * cold_mount / cold_direct:.0f}%")

        count = 20000
        mfd = os.open(data, os.O_RDONLY)
        sfds = [(os.open(s, os.O_RDONLY), os.path.getsize(s) // PAGE) for s in segments]
        try:
            mount_rps = random_reads([(mfd, seq_pages + 1)], count)
            direct_rps = random_reads(sfds, count)
        finally:
            os.close(mfd)
            for fd, _ in sfds:
                os.close(fd)
        s = m.stats()
        print(f"4 KiB random reads over all {seq_pages * PAGE / MIB:.0f} MiB (budget "
              f"{args.cache_size}): mount {mount_rps:,.0f}/s ({1e6 / mount_rps:.1f} us each), "
              f"direct {direct_rps:,.0f}/s ({1e6 / direct_rps:.1f} us) -> "
              f"{100 * mount_rps / direct_rps:.0f}%  [cache hits {s['hits']:,}, misses {s['misses']:,}]")
        hot_random_reads(m, data, segments, parse_size(args.cache_size))

    if not args.skip_ls:
        ls_pages_folder(work, ls_pages, args.cache_size, env)
    if args.seed_n:
        seed_scenario(work, args.seed_n, args.seed_cache, env)
    if args.lst_n:
        lst_random(work, args.lst_n, args.lst_cache, env)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def ls_pages_folder(work: Path, ls_pages: int, cache_size: str, env: dict) -> None:
    """Part 3: ls -l of a big pages/ folder."""
    root, mnt = work / "ls", work / "ls-mnt"
    (root / "data").mkdir(parents=True, exist_ok=True)
    mnt.mkdir(exist_ok=True)
    with Mounted(root, mnt, cache_size, env):
        t = time.perf_counter()
        fill(mnt / "data" / "data", ls_pages)
        print(f"built {ls_pages:,} pages in {time.perf_counter() - t:.1f} s")
    with Mounted(root, mnt, cache_size, env):
        t = time.perf_counter()
        r = subprocess.run(["ls", "-l", str(mnt / "data" / "pages")], capture_output=True)
        dt = time.perf_counter() - t
        lines = r.stdout.count(b"\n") - 1
        t = time.perf_counter()
        r2 = subprocess.run(["ls", "-l", str(mnt / "data" / "pages")], capture_output=True)
        dt2 = time.perf_counter() - t
        print(f"ls -l pages: {lines:,} files in {dt:.2f} s ({lines / dt:,.0f} files/s); "
              f"again {dt2:.2f} s")


def seed_scenario(work: Path, n: int, cache_size: str, env: dict) -> None:
    """Part 4: the seed scenario embedded, then through the mount (the daemon
    holds the budget; the process keeps its small local cache)."""
    batch = 50_000
    cache = parse_size(cache_size)
    embedded = seed_run(work / "seed-embedded", n, batch, cache, None)
    root, mnt = work / "seed-root", work / "seed-mnt"
    (root / "data").mkdir(parents=True, exist_ok=True)
    mnt.mkdir(exist_ok=True)
    with Mounted(root, mnt, cache_size, env) as m:
        mounted = seed_run(mnt, n, batch, cache, m)
    print(f"seed scenario, {n:,} strings, budget {cache_size}: embedded {embedded[0]:.2f} s "
          f"(process peak {embedded[1]:.0f} MiB, reopen to first read {embedded[2]:.1f} ms); "
          f"through the mount {mounted[0]:.2f} s (process peak {mounted[1]:.0f} MiB, daemon "
          f"peak {mounted[3]:.0f} MiB, reopen to first read {mounted[2]:.1f} ms) -> "
          f"{mounted[0] / embedded[0]:.2f}x embedded")


def parse_size(text: str) -> int:
    """--cache-size as init() and the mount read it: the engine's one grammar."""
    from pagefs._core import parse_size as engine_parse_size

    return engine_parse_size(text, "--cache-size")


if __name__ == "__main__":
    sys.exit(main())
