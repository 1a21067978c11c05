#!/usr/bin/env python3
"""The seed scenario: a persistent list of 5 million strings under a 128 MiB
cache budget, extended from a worker thread while the main thread watches, then
found again by a second process.

    python3 scripts/seed_demo.py [--n 5000000] [--batch 50000] [--cache-mib 128] [--root DIR]
"""
import argparse
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def random_string(n=12):
    return "".join(random.choices(string.ascii_letters + string.digits, k=n))


def write(root, n, batch, cache):
    import pagefs as db0

    db0.init(dbzero_root=root, prefix="data")
    db0.set_cache_size(cache)
    baseline = rss_mib()
    lst = db0.list()
    done = threading.Event()
    peak = [baseline]

    def work():
        for _ in range(n // batch):
            lst.extend([random_string() for _ in range(batch)])
        done.set()

    t0 = time.monotonic()
    worker = threading.Thread(target=work)
    worker.start()
    while not done.wait(0.5):
        peak[0] = max(peak[0], rss_mib())
        print(f"  {len(lst):>9,} strings  rss {rss_mib():7.1f} MiB", flush=True)
    worker.join()
    peak[0] = max(peak[0], rss_mib())
    elapsed = time.monotonic() - t0
    print(len(lst), lst[12313 % len(lst)])
    db0.root()["results"] = lst
    db0.close()
    print(f"wrote {n:,} strings in {elapsed:.1f} s (string generation included); "
          f"rss baseline {baseline:.1f} MiB, peak {peak[0]:.1f} MiB, "
          f"budget {cache / 2**20:.0f} MiB")


def reopen(root, n):
    code = (
        "import pagefs as db0, time\n"
        "t0 = time.monotonic()\n"
        f"db0.init({root!r}, prefix='data')\n"
        "lst = db0.root()['results']\n"
        "first = lst[0]\n"
        "ms = (time.monotonic() - t0) * 1000\n"
        f"assert len(lst) == {n}, len(lst)\n"
        "print(f'reopened in a new process: len {len(lst):,}, lst[0] = {first!r}, '\n"
        "      f'init to first read {ms:.1f} ms')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5_000_000)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--cache-mib", type=int, default=128)
    ap.add_argument("--root", help="store folder (default: a temporary folder, removed afterwards)")
    args = ap.parse_args()
    root = args.root or tempfile.mkdtemp(prefix="pagefs-demo-")
    try:
        write(root, args.n, args.batch, args.cache_mib << 20)
        reopen(root, args.n - args.n % args.batch)
    finally:
        if not args.root:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
