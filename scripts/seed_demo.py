#!/usr/bin/env python3
"""The seed scenario, side by side: a Python list and a pagefs list of the
same 5 million random strings, each built in its own process while this one
samples both processes' resident memory. The pagefs list outgrows its budget
(32 MiB by default: its pages take about twice that), so its memory line
rises to baseline + budget and stays there while the Python list's keeps
climbing. Then a new process reopens the list, and a dict and a set are
written and reopened in new processes too.

    python3 scripts/seed_demo.py [--n 5000000] [--batch 50000] [--cache-mib 32]
                                 [--dict-n 200000] [--root DIR] [--out bench-out] [--no-install]

Prints both curves' figures and writes a chart of resident memory over time
(OUT/demo-rss.png, with matplotlib; installed from PyPI if missing unless
--no-install) and the samples as JSON (OUT/demo-rss.json).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402 -- the scripts folder's shared helpers

MiB = 1 << 20
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CLI = os.path.join(os.path.dirname(HERE), "pybind", "pagefs", "cli.py")


# ------------------------------------------------------------------ children
def emit(event: str, **kw) -> None:
    kw.update(event=event, t=time.time())
    print(json.dumps(kw), flush=True)


def strings(rng: random.Random, k: int) -> list:
    choices = rng.choices
    return ["".join(choices(ALPHABET, k=12)) for _ in range(k)]


def child_list(kind: str, root: str, n: int, batch: int, cache: int) -> None:
    """Builds the list of n strings; kind is "python" or "pagefs"."""
    rng = random.Random(2026)
    if kind == "pagefs":
        import pagefs as db0

        db0.init(root, prefix="data", cache_size=cache)
        lst = db0.list()
    else:
        lst = []
    emit("ready", rss=bl.proc_mem()["VmRSS"])
    t0 = time.monotonic()
    for _ in range(n // batch):
        lst.extend(strings(rng, batch))
    seconds = time.monotonic() - t0
    emit("extended", n=len(lst), seconds=seconds, sample=lst[12313 % len(lst)])
    if kind == "pagefs":
        db0.root()["results"] = lst
        db0.commit()
        emit("committed", stats=db0.stats())
        time.sleep(1.0)  # the plateau, held
        db0.close()
    else:
        time.sleep(1.0)  # the peak, held
    emit("done", rss=bl.proc_mem()["VmRSS"])


def child_collections(root: str, n: int, cache: int) -> None:
    import pagefs as db0

    db0.init(root, prefix="data", cache_size=cache)
    rng = random.Random(7)
    t0 = time.monotonic()
    index = db0.dict()
    for i in range(0, n, 10_000):
        index.update(("".join(rng.choices(ALPHABET, k=16)), i + j) for j in range(10_000))
    seen = db0.set("".join(rng.choices(ALPHABET, k=16)) for _ in range(n // 2))
    db0.root()["index"], db0.root()["seen"] = index, seen
    first, count = next(iter(index.items())), len(index)
    db0.close()
    emit("written", seconds=time.monotonic() - t0, n=count, members=n // 2, first=first)


def child_reopen_collections(root: str) -> None:
    import collections.abc

    t0 = time.monotonic()
    import pagefs as db0

    db0.init(root, prefix="data")
    index, seen = db0.root()["index"], db0.root()["seen"]
    first_key, first_value = next(iter(index.items()))
    ms = (time.monotonic() - t0) * 1000
    assert index[first_key] == first_value
    member = next(iter(seen))
    emit("reopened", ms=ms, n=len(index), first=[first_key, first_value],
         mapping=isinstance(index, collections.abc.MutableMapping),
         set_abc=isinstance(seen, collections.abc.MutableSet), members=len(seen),
         member=member, member_in=member in seen, missing_in="not a key" in index,
         stats=db0.stats())
    db0.close()


def child_reopen_list(root: str, n: int) -> None:
    t0 = time.monotonic()
    import pagefs as db0

    db0.init(root, prefix="data")
    lst = db0.root()["results"]
    first = lst[0]
    ms = (time.monotonic() - t0) * 1000
    assert len(lst) == n, len(lst)
    emit("reopened", ms=ms, n=len(lst), first=first, last=lst[-1])
    db0.close()


# ------------------------------------------------------------------- parent
def start(*args: str) -> tuple[subprocess.Popen, str]:
    fd, path = tempfile.mkstemp(prefix="pagefs-demo-", suffix=".jsonl")
    os.close(fd)
    with open(path, "w") as out:
        p = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=out)
    return p, path


def events(path: str) -> dict:
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                e = json.loads(line)
                out[e["event"]] = e
    return out


def run_one(*args: str) -> dict:
    p, path = start(*args)
    if p.wait() != 0:
        sys.exit(f"demo: the child {args[0]} failed ({p.returncode})")
    got = events(path)
    os.unlink(path)
    return got


def side_by_side(args, root: str) -> dict:
    """Runs both list builders at once, sampling their VmRSS every 0.1 s."""
    procs = {
        "Python list": start("python", root, str(args.n), str(args.batch), "0"),
        "pagefs list": start("pagefs", root, str(args.n), str(args.batch), str(args.cache_mib * MiB)),
    }
    t0 = time.time()
    samples = {name: [] for name in procs}
    next_print = t0 + 1.0
    while any(p.poll() is None for p, _ in procs.values()):
        now = time.time()
        for name, (p, _) in procs.items():
            m = bl.proc_mem(p.pid) if p.poll() is None else None
            if m is not None:
                samples[name].append((now - t0, m["VmRSS"]))
        if now >= next_print:
            next_print += 1.0
            line = "   ".join(f"{name} {s[-1][1] / MiB:7.1f} MiB" for name, s in samples.items() if s)
            print(f"  {now - t0:5.1f} s   {line}", flush=True)
        time.sleep(0.1)
    curves = {}
    for name, (p, path) in procs.items():
        if p.returncode != 0:
            sys.exit(f"demo: the {name} process failed ({p.returncode})")
        ev = events(path)
        os.unlink(path)
        rss = [r for _, r in samples[name]]
        baseline = ev["ready"]["rss"]
        curves[name] = {
            "t": [t for t, _ in samples[name]],
            "rss": rss,
            "baseline": baseline,
            "peak": max(rss + [baseline]),
            "extend_seconds": ev["extended"]["seconds"],
            "extended_at": ev["extended"]["t"] - t0,
            "n": ev["extended"]["n"],
            "stats": ev.get("committed", {}).get("stats"),
        }
    return curves


def report(curves: dict, args) -> None:
    print()
    budget = args.cache_mib * MiB
    for name, c in curves.items():
        grown = c["peak"] - c["baseline"]
        line = (f"{name:>12}: {c['n']:,} strings extended in {c['extend_seconds']:.1f} s "
                f"(string generation included); resident memory: baseline {c['baseline'] / MiB:.1f} MiB, "
                f"peak {c['peak'] / MiB:.1f} MiB (+{grown / MiB:.1f} MiB)")
        print(line)
        if c["stats"]:
            s = c["stats"]
            print(f"{'':>14}budget {budget / MiB:.0f} MiB: peak is baseline + "
                  f"{grown / budget:.2f} x budget; the list's pages take "
                  f"{s['bytes_on_disk'] / MiB:.1f} MiB on disk "
                  f"({s['bytes_on_disk'] / budget:.1f} x the budget), cache holds "
                  f"{s['resident_bytes'] / MiB:.1f} MiB")


def chart(curves: dict, args, png: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("demo: matplotlib is not installed: no chart (pip install matplotlib)")
        return False
    colors = {"Python list": "tab:gray", "pagefs list": "tab:blue"}
    fig, ax = plt.subplots(figsize=(9, 5))
    for name, c in curves.items():
        ax.plot(c["t"], [r / MiB for r in c["rss"]], label=name, color=colors[name])
        ax.axvline(c["extended_at"], ls=":", lw=0.8, color=colors[name])
    pf = curves["pagefs list"]
    ax.axhline((pf["baseline"] + args.cache_mib * MiB) / MiB, ls="--", lw=0.8, color="tab:blue",
               label=f"pagefs baseline + budget ({args.cache_mib} MiB)")
    ax.set_xlabel("seconds (both processes started together)")
    ax.set_ylabel("resident memory (VmRSS), MiB")
    ax.set_title(f"{args.n:,} random 12-character strings, extended in batches of {args.batch:,}\n"
                 "(dotted: extends done; sampled every 0.1 s from outside)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind in ("python", "pagefs"):
            child_list(kind, rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
        elif kind == "collections":
            child_collections(rest[0], int(rest[1]), int(rest[2]))
        elif kind == "reopen-collections":
            child_reopen_collections(rest[0])
        elif kind == "reopen-list":
            child_reopen_list(rest[0], int(rest[1]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5_000_000, help="strings in each list (5M)")
    ap.add_argument("--batch", type=int, default=50_000, help="strings per extend (50k)")
    ap.add_argument("--cache-mib", type=int, default=32, help="the pagefs budget, MiB (32)")
    ap.add_argument("--dict-n", type=int, default=200_000, help="items of the dict (200k)")
    ap.add_argument("--root", help="store folder (default: a temporary folder, removed afterwards)")
    ap.add_argument("--out", default="bench-out", help="where the chart and JSON go (bench-out)")
    ap.add_argument("--no-install", action="store_true", help="do not pip install matplotlib")
    args = ap.parse_args()
    args.n -= args.n % args.batch
    bl.ensure_pip(["matplotlib"], allow_install=not args.no_install)
    root = args.root or tempfile.mkdtemp(prefix="pagefs-demo-")
    os.makedirs(args.out, exist_ok=True)
    try:
        print(f"demo: a Python list and a pagefs list (budget {args.cache_mib} MiB) of {args.n:,} "
              "strings, each in its own process; resident memory:")
        curves = side_by_side(args, root)
        report(curves, args)
        png = os.path.join(args.out, "demo-rss.png")
        with open(os.path.join(args.out, "demo-rss.json"), "w") as f:
            json.dump({"n": args.n, "batch": args.batch, "cache_mib": args.cache_mib,
                       "curves": curves}, f)
        if chart(curves, args, png):
            print(f"chart: {png}")

        got = run_one("reopen-list", root, str(args.n))["reopened"]
        print(f"\nreopened in a new process: len {got['n']:,}, lst[0] = {got['first']!r}, "
              f"lst[-1] = {got['last']!r}; open to first read {got['ms']:.1f} ms (import included)")

        print(f"\na dict of {args.dict_n:,} str -> int (update in batches of 10,000) and a set of "
              f"{args.dict_n // 2:,} strings, under the same budget:")
        w = run_one("collections", root, str(args.dict_n), str(args.cache_mib * MiB))["written"]
        print(f"  written and closed in {w['seconds']:.1f} s; first item {tuple(w['first'])!r}")
        r = run_one("reopen-collections", root)["reopened"]
        print(f"  reopened in a new process: len(index) {r['n']:,}, first item "
              f"{tuple(r['first'])!r} (open to it: {r['ms']:.1f} ms, import included), "
              f"MutableMapping {r['mapping']}; len(seen) {r['members']:,}, "
              f"{r['member']!r} in seen: {r['member_in']}, MutableSet {r['set_abc']}; "
              f"cache holds {r['stats']['resident_bytes'] / MiB:.2f} MiB")
        print(f"\n$ pagefs ls {root}")
        sys.stdout.flush()
        subprocess.run([sys.executable, CLI, "ls", root], check=True)
    finally:
        if not args.root:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
