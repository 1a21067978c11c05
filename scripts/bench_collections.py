#!/usr/bin/env python3
"""Dicts, sets and lists against their rivals, each system in its own process
under the same budget.

    python3 scripts/bench_collections.py [--quick] [--n 1000000,10000000] [--cache 64]
        [--dict-systems pydict,pagefs,dbzero,rocksdict] [--set-systems pyset,pagefs,dbzero]
        [--list-n 5000000] [--list-cache 256] [--small-cache 16] [--max-disk 20]
        [--out bench-out] [--tmp DIR] [--no-install]

Dicts: n `str -> int` items (16-character keys) inserted with `update` in
batches of 10,000, then --hits random hit lookups (`d[k]`) and --misses miss
lookups (`d.get(k)`); per system: inserts/s, hits/s, misses/s (the update
and lookup calls only, keys made beforehand), peak resident memory over the
baseline taken after opening the empty store, bytes on disk after close,
and, in a new process, open to first lookup (import apart). Sets: the same
with `update` of keys and `k in s`. Lists: random `lst[i]` over --list-n
16-character strings, in cache (--list-cache, 256 MiB: the 5M strings take
about 92 MiB of pages) and reopened at --small-cache.

Systems: Python's dict/set/list (no budget, no persistence), pagefs, dbzero
(`dbzero.dict`/`set` held by a singleton memo; `set_cache_size`), and
rocksdict (RocksDB; block cache = the budget; other memory, e.g. its 64 MiB
default write buffer, is its own; values pickled by rocksdict's default
mode; batches through a WriteBatch). Missing optional packages are installed
from scripts/requirements-bench.txt unless --no-install.

Figures are printed and written to OUT/collections.json, resident memory
over time (sampled every 0.1 s from outside) to OUT/collections-rss.png.
--quick runs 100,000 items and a 100,000-string list: a smoke test of the
script, not figures. Nothing asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402 -- the scripts folder's shared helpers

MiB = 1 << 20
GiB = 1 << 30
BATCH = 10_000
DICT_SYSTEMS = ["pydict", "pagefs", "dbzero", "rocksdict"]
SET_SYSTEMS = ["pyset", "pagefs", "dbzero"]
LIST_SYSTEMS = ["pylist", "pagefs"]
IN_MEMORY = {"pydict", "pyset", "pylist"}
PIP_OF = {"dbzero": "dbzero", "rocksdict": "rocksdict"}


def key(i: int) -> str:
    """A distinct 16-character key per i (an odd multiplier is a bijection mod 2**64)."""
    return "%016x" % ((i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)


# =================================================================== child side
class Store:
    """One system's collection of one kind, the same small surface for all."""

    def __init__(self, system: str, kind: str, path: str, cache: int, create: bool):
        self.system, self.kind = system, kind
        if system in IN_MEMORY:
            self.c = {"dict": {}, "set": set(), "list": []}[kind]
        elif system == "pagefs":
            import pagefs

            self.db = pagefs
            pagefs.init(path, prefix="data", cache_size=cache)
            if create:
                self.c = {"dict": pagefs.dict, "set": pagefs.set, "list": pagefs.list}[kind]()
                pagefs.root()["c"] = self.c
            else:
                self.c = pagefs.root()["c"]
        elif system == "dbzero":
            import dbzero

            import bench_dbzero_model

            self.db = dbzero
            dbzero.init(path, prefix="data")
            dbzero.set_cache_size(cache)
            if create:
                self.c = {"dict": dbzero.dict, "set": dbzero.set, "list": dbzero.list}[kind]()
                self.anchor = bench_dbzero_model.BenchRoot(self.c)
            else:
                self.anchor = dbzero.fetch(bench_dbzero_model.BenchRoot)
                self.c = self.anchor.results
        elif system == "rocksdict":
            from rocksdict import BlockBasedOptions, Cache, Options, Rdict

            opt = Options()
            opt.create_if_missing(True)
            table = BlockBasedOptions()
            table.set_block_cache(Cache(cache))
            opt.set_block_based_table_factory(table)
            self.c = Rdict(os.path.join(path, "rocks"), opt)
        else:
            raise SystemExit(f"unknown system {system}")

    def update(self, start: int, stop: int) -> float:
        """Adds items [start, stop); returns the seconds the insert call took."""
        keys = [key(i) for i in range(start, stop)]
        if self.kind == "set":
            items = keys
        elif self.kind == "list":
            items = keys
        else:
            items = list(zip(keys, range(start, stop)))
        if self.system == "rocksdict":
            from rocksdict import WriteBatch

            t = time.perf_counter()
            wb = WriteBatch()
            for k, v in items:
                wb.put(k, v)
            self.c.write(wb)
            return time.perf_counter() - t
        t = time.perf_counter()
        if self.kind == "list":
            self.c.extend(items)
        else:
            self.c.update(items)
        return time.perf_counter() - t

    def hits(self, keys: list) -> float:
        c = self.c
        t = time.perf_counter()
        if self.kind == "set":
            for k in keys:
                k in c  # noqa: B015 -- the lookup is the measurement
        else:
            for k in keys:
                c[k]
        return time.perf_counter() - t

    def misses(self, keys: list) -> float:
        c = self.c
        t = time.perf_counter()
        if self.kind == "set":
            for k in keys:
                k in c  # noqa: B015
        else:
            get = c.get
            for k in keys:
                get(k)
        return time.perf_counter() - t

    def check(self, i: int) -> bool:
        if self.kind == "set":
            return key(i) in self.c
        if self.kind == "list":
            return self.c[i] == key(i)
        return self.c[key(i)] == i

    def commit(self) -> None:
        if self.system in ("pagefs", "dbzero"):
            self.db.commit()
        elif self.system == "rocksdict":
            self.c.flush()

    def close(self) -> None:
        if self.system in ("pagefs", "dbzero"):
            self.c = self.anchor = None
            self.db.close()
        elif self.system == "rocksdict":
            self.c.close()


def task_build(task: dict) -> dict:
    n, kind = task["n"], task["kind"]
    s = Store(task["system"], kind, task["path"], task["cache"], create=True)
    # The lookups' keys exist before the baseline: they are the benchmark's
    # memory (some 10 MiB of Python strings), not the store's.
    rng = random.Random(5)
    if kind == "list":
        idx = [rng.randrange(n) for _ in range(task["hits"])]
    else:
        hit_keys = [key(rng.randrange(n)) for _ in range(task["hits"])]
        miss_keys = [key(n + rng.randrange(n)) for _ in range(task["misses"])]
    baseline = bl.rss_now()["VmRSS"]
    bl.emit("baseline", rss=baseline)
    inserting = 0.0
    for start in range(0, n, BATCH):
        inserting += s.update(start, min(n, start + BATCH))
    bl.emit("inserted")
    t = time.perf_counter()
    s.commit()
    commit_s = time.perf_counter() - t
    out = {"n": n, "insert_s": inserting, "inserts_per_s": n / inserting, "commit_s": commit_s,
           "baseline": baseline}
    if kind == "list":
        t = time.perf_counter()
        c = s.c
        for i in idx:
            c[i]
        out["reads_per_s"] = len(idx) / (time.perf_counter() - t)
    else:
        out["hits_per_s"] = len(hit_keys) / s.hits(hit_keys)
        out["misses_per_s"] = len(miss_keys) / s.misses(miss_keys)
    out["checked"] = all(s.check(rng.randrange(n)) for _ in range(100))
    bl.emit("looked_up")
    out["hwm"] = bl.rss_now().get("VmHWM")
    s.close()
    return out


def task_open(task: dict) -> dict:
    """A new process: import, open, first lookup (then, for lists, reads at a small budget)."""
    t0 = time.perf_counter()
    if task["system"] == "pagefs":
        import pagefs  # noqa: F401
    elif task["system"] == "dbzero":
        import dbzero  # noqa: F401
    elif task["system"] == "rocksdict":
        import rocksdict  # noqa: F401
    t1 = time.perf_counter()
    s = Store(task["system"], task["kind"], task["path"], task["cache"], create=False)
    ok = s.check(0)
    t2 = time.perf_counter()
    out = {"import_ms": (t1 - t0) * 1000, "open_to_first_ms": (t2 - t1) * 1000, "first_ok": ok}
    if task["kind"] == "list":
        n = task["n"]
        rng = random.Random(6)
        idx = [rng.randrange(n) for _ in range(task["hits"])]
        c = s.c
        t = time.perf_counter()
        for i in idx:
            c[i]
        out["reads_per_s"] = len(idx) / (time.perf_counter() - t)
    s.close()
    return out


# ================================================================== parent side
def run(task: dict, timeout: float, max_disk: int) -> dict:
    r = bl.run_child(task, timeout=timeout, script=os.path.abspath(__file__),
                     disk_limit=(task["path"], max_disk))
    if r["result"] is None:
        why = (", timed out" if r["timed_out"] else
               f", stopped at {max_disk / GiB:.0f} GiB on disk" if r["over_disk"] else "")
        print(f"[bench] {task['system']} {task['kind']} {task['task']} failed (rc {r['returncode']}"
              f"{why}): {r['stderr'][-800:]}", flush=True)
    return r


def measure(system: str, kind: str, n: int, args, tmp: str) -> dict:
    path = tempfile.mkdtemp(prefix=f"bench-{system}-{kind}-", dir=tmp)
    try:
        common = {"system": system, "kind": kind, "n": n, "path": path, "hits": args.hits,
                  "misses": args.misses}
        max_disk = int(args.max_disk * GiB)
        # The list's first figure is in cache: a budget that holds all of it.
        cache = (args.list_cache if kind == "list" else args.cache) * MiB
        b = run({**common, "task": "build", "cache": cache}, args.timeout, max_disk)
        row = {"system": system, "kind": kind, "n": n}
        if b["result"] is None:
            return {**row, "failed": True, "over_disk": b["over_disk"],
                    "timed_out": b["timed_out"],
                    "seconds": (b["samples"][-1][0] - b["t_start"]) if b["samples"] else None}
        res = b["result"]
        base_ev = next((e for e in b["events"] if e["event"] == "baseline"), None)
        t_base = base_ev["t"] if base_ev else b["t_start"]
        peak = max([s[1] for s in b["samples"] if s[0] >= t_base] + [res["baseline"]])
        row.update({k: res.get(k) for k in ("inserts_per_s", "hits_per_s", "misses_per_s",
                                              "reads_per_s", "commit_s", "checked")})
        row["peak_over_baseline"] = peak - res["baseline"]
        row["timeline"] = {"t": [s[0] - b["t_start"] for s in b["samples"]],
                           "rss": [s[1] for s in b["samples"]]}
        if system not in IN_MEMORY:
            row["bytes_on_disk"] = bl.dir_size(path)["allocated"]
            cache = (args.small_cache if kind == "list" else args.cache) * MiB
            o = run({**common, "task": "open", "cache": cache}, args.timeout, max_disk)
            if o["result"] is not None:
                row["import_ms"] = o["result"]["import_ms"]
                row["open_to_first_ms"] = o["result"]["open_to_first_ms"]
                row["first_ok"] = o["result"]["first_ok"]
                if kind == "list":
                    row["reads_per_s_small"] = o["result"]["reads_per_s"]
        return row
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fmt_rate(v) -> str:
    if v is None:
        return "-"
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}k"


def table(rows: list) -> str:
    hdr = ["kind", "n", "system", "inserts/s", "hits/s", "misses/s", "peak RSS +", "disk",
           "open->1st", "lst[i]/s", "at small"]
    lines = [hdr]
    for r in rows:
        if r.get("failed"):
            why = ("over the disk limit" if r.get("over_disk") else
                   "timed out" if r.get("timed_out") else "failed")
            lines.append([r["kind"], f"{r['n']:,}", r["system"], why] + [""] * 7)
            continue
        lines.append([
            r["kind"], f"{r['n']:,}", r["system"], fmt_rate(r.get("inserts_per_s")),
            fmt_rate(r.get("hits_per_s")), fmt_rate(r.get("misses_per_s")),
            f"{r['peak_over_baseline'] / MiB:.0f} MiB",
            f"{r['bytes_on_disk'] / MiB:.1f} MiB" if "bytes_on_disk" in r else "-",
            f"{r['open_to_first_ms']:.1f} ms" if "open_to_first_ms" in r else "-",
            fmt_rate(r.get("reads_per_s")), fmt_rate(r.get("reads_per_s_small")),
        ])
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(hdr))]
    out = []
    for k, l in enumerate(lines):
        out.append("  ".join(str(c).rjust(w) if i > 2 else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(l, widths))))
        if k == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def plot(rows: list, args, png: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[bench] matplotlib not available: no chart", flush=True)
        return False
    groups = []
    for r in rows:
        g = (r["kind"], r["n"])
        if g not in groups:
            groups.append(g)
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4.5), squeeze=False)
    colors = {"pydict": "tab:gray", "pyset": "tab:gray", "pylist": "tab:gray", "pagefs": "tab:blue",
              "dbzero": "tab:orange", "rocksdict": "tab:green"}
    for ax, (kind, n) in zip(axes[0], groups):
        for r in rows:
            if (r["kind"], r["n"]) == (kind, n) and r.get("timeline"):
                tl = r["timeline"]
                ax.plot(tl["t"], [x / MiB for x in tl["rss"]], label=r["system"],
                        color=colors.get(r["system"]))
        budget = args.list_cache if kind == "list" else args.cache
        ax.set_title(f"{kind}, {n:,} items, budget {budget} MiB", fontsize=9)
        ax.set_xlabel("seconds since process start")
        ax.set_ylabel("resident memory (VmRSS), MiB")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return True


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k items and a 100k list: a smoke test")
    ap.add_argument("--n", default="1000000,10000000", help="dict/set sizes (1M,10M)")
    ap.add_argument("--cache", type=int, default=64, help="the budget, MiB (64)")
    ap.add_argument("--list-cache", type=int, default=256,
                    help="the list's first budget, MiB, large enough to hold it (256)")
    ap.add_argument("--small-cache", type=int, default=16, help="the list's second budget, MiB (16)")
    ap.add_argument("--hits", type=int, default=100_000, help="hit lookups (100k)")
    ap.add_argument("--misses", type=int, default=50_000, help="miss lookups (50k)")
    ap.add_argument("--list-n", type=int, default=5_000_000, help="list strings (5M)")
    ap.add_argument("--dict-systems", default=",".join(DICT_SYSTEMS))
    ap.add_argument("--set-systems", default=",".join(SET_SYSTEMS))
    ap.add_argument("--list-systems", default=",".join(LIST_SYSTEMS))
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per child (3600)")
    ap.add_argument("--max-disk", type=float, default=20,
                    help="GiB a system's store may take before it is stopped (20)")
    ap.add_argument("--out", default="bench-out", help="output folder (bench-out)")
    ap.add_argument("--tmp", default=None, help="where the stores go (system tmp)")
    ap.add_argument("--no-install", action="store_true", help="do not pip install missing packages")
    args = ap.parse_args(argv)
    if args.tmp:
        os.makedirs(args.tmp, exist_ok=True)
    sizes = [int(x) for x in args.n.split(",") if x]
    if args.quick:
        sizes, args.list_n = [100_000], 100_000
        args.hits, args.misses = min(args.hits, 20_000), min(args.misses, 10_000)
    pick = lambda text, allowed: [s for s in text.split(",") if s in allowed]  # noqa: E731
    dict_systems = pick(args.dict_systems, DICT_SYSTEMS)
    set_systems = pick(args.set_systems, SET_SYSTEMS)
    list_systems = pick(args.list_systems, LIST_SYSTEMS)
    wanted = sorted({PIP_OF[s] for s in dict_systems + set_systems if s in PIP_OF})
    bl.ensure_pip(wanted + ["matplotlib"], allow_install=not args.no_install)
    import importlib.util

    have = lambda s: s not in PIP_OF or importlib.util.find_spec(PIP_OF[s]) is not None  # noqa: E731
    os.makedirs(args.out, exist_ok=True)
    rows = []
    plan = [("dict", n, s) for n in sizes for s in dict_systems]
    plan += [("set", n, s) for n in sizes for s in set_systems]
    plan += [("list", args.list_n, s) for s in list_systems]
    for kind, n, system in plan:
        if not have(system):
            print(f"[bench] {system}: not installed, skipped", flush=True)
            continue
        print(f"[bench] {kind} {n:,} {system} ...", flush=True)
        rows.append(measure(system, kind, n, args, args.tmp))
    print()
    print(table(rows))
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cache_mib": args.cache,
            "list_cache_mib": args.list_cache, "small_cache_mib": args.small_cache,
            "hits": args.hits, "misses": args.misses,
            "batch": BATCH, "quick": args.quick, "cpus": os.cpu_count()}
    path = os.path.join(args.out, "collections.json")
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f)
    print(f"\nfigures: {path}")
    png = os.path.join(args.out, "collections-rss.png")
    if plot(rows, args, png):
        print(f"chart: {png}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1].startswith("{"):
        task = json.loads(sys.argv[1])
        bl.emit("result", **{"build": task_build, "open": task_open}[task["task"]](task))
    else:
        main()
