#!/usr/bin/env python3
"""Seed benchmark: a persistent list of N random 12-char strings under a memory budget.

Scenario (defaults): 5,000,000 strings appended in batches of 50,000, cache budget 128 MiB.
Every system runs in its own child processes; the parent samples their resident memory
(/proc/PID/status VmRSS) every 0.1 s.  Rows: plain Python list, pagefs, dbzero
(--rivals adds SQLite and LMDB).  Figures only: nothing here passes or fails.

What is measured, per system
  build process   import time; RSS right after import (baseline); the scenario
                  (init + extends + commit + close; string generation is done batch by
                  batch in the same process but timed apart and excluded); extend
                  throughput; peak RSS (sampled, and the kernel's VmHWM); steady RSS
                  (median of samples over the second half of the extends); then random
                  lst[i] reads at the big budget after a warm-up pass of as many reads
  small-budget    a fresh process opens the store with --small-cache MiB, warms up,
                  and times the same number of random reads
  first read      --first-read-runs fresh processes: import (reported apart), then
                  init/open -> lst[0] (the OS page cache is warm: it cannot be dropped here)
  disk            allocated bytes of the store folder after close vs raw payload N*12

Usage
  python scripts/bench_seed.py                         # full seed scenario, 3 systems
  python scripts/bench_seed.py --n 200000 --systems pylist,dbzero --rivals
Output: DIR/seed.json and DIR/seed-rss.png (--out DIR, default ./bench-out).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

MiB = 1 << 20


def version_of(system: str) -> str | None:
    from importlib import metadata
    dist = {"pagefs": "pagefs", "dbzero": "dbzero", "lmdb": "lmdb"}.get(system)
    if system == "sqlite":
        import sqlite3
        return sqlite3.sqlite_version
    if system == "pylist":
        return platform.python_version()
    try:
        return metadata.version(dist)
    except Exception:  # noqa: BLE001
        return None


def ev_time(run: dict, name: str) -> float | None:
    for e in run["events"]:
        if e["event"] == name:
            return e["t"]
    return None


def window(samples, t_from, t_to):
    return [s for s in samples if (t_from is None or s[0] >= t_from) and
            (t_to is None or s[0] <= t_to)]


def rss_summary(run: dict) -> dict:
    s = run["samples"]
    out = {"samples": len(s)}
    if not s:
        return out
    out["peak_sampled_whole_process"] = max(x[1] for x in s)
    # the scenario proper ends with the commit; reads come after and are reported apart
    scn = window(s, None, ev_time(run, "committed"))
    if scn:
        out["peak_scenario"] = max(x[1] for x in scn)
    rd = window(s, ev_time(run, "reads_warmup_start"), ev_time(run, "reads_big_end"))
    if rd:
        out["peak_during_reads"] = max(x[1] for x in rd)
    half, ext = ev_time(run, "half_extended"), ev_time(run, "extended")
    steady = window(s, half, ext)
    if steady:
        out["steady_median"] = statistics.median(x[1] for x in steady)
        out["steady_anon_median"] = statistics.median(x[2] for x in steady)
        out["steady_file_median"] = statistics.median(x[3] for x in steady)
        out["steady_window_s"] = (ext or 0) - (half or 0)
    elif ext is not None:
        # too short a window for a 0.1 s sampler (small --n): take the first sample after
        # the extends ended
        later = window(s, ext, ev_time(run, "committed"))
        if later:
            out["steady_median"] = later[0][1]
            out["steady_single_sample"] = True
    com = ev_time(run, "committed")
    after = window(s, com, None)
    if after:
        out["after_commit"] = after[0][1]
    return out


def run_system(system: str, args, tmp_root: str) -> dict:
    row: dict = {"system": system, "version": version_of(system)}
    ok, why = bl.available(system)
    if not ok:
        print(f"[{system}] not available ({why}); skipped", flush=True)
        row["skipped"] = why
        return row
    cache = args.cache * MiB
    store = tempfile.mkdtemp(prefix=f"seed-{system}-", dir=tmp_root)
    path = os.path.join(store, "db")
    common = {"system": system, "path": path, "n": args.n, "batch": args.batch,
              "seed": args.seed, "reads": args.reads, "read_cap": args.read_cap}
    try:
        print(f"[{system}] build: {args.n:,} strings in batches of {args.batch:,}, "
              f"budget {args.cache} MiB ...", flush=True)
        run = bl.run_child({**common, "task": "build", "cache": cache},
                           sample_interval=args.interval, workdir=tmp_root)
        if run["result"] is None:
            print(f"[{system}] build failed (rc={run['returncode']}):\n{run['stderr']}",
                  flush=True)
            row["error"] = f"build failed rc={run['returncode']}: {run['stderr'][-1500:]}"
            return row
        res = run["result"]
        row["adapter_notes"] = None
        row["build"] = {k: v for k, v in res.items() if k not in ("event", "t")}
        row["rss"] = rss_summary(run)
        row["rss"]["baseline_after_import"] = res["baseline_rss"]["VmRSS"]
        row["rss"]["vmhwm"] = res.get("vmhwm")
        t0 = run["t_start"]
        row["timeline_build"] = {
            "t": [round(s[0] - t0, 3) for s in run["samples"]],
            "rss": [s[1] for s in run["samples"]],
            "events": {e["event"]: round(e["t"] - t0, 3) for e in run["events"]}}
        print(f"[{system}] scenario {res['scenario_s']:.2f}s, extend "
              f"{res['extend_per_s']:,.0f}/s, peak RSS {row['rss'].get('peak_scenario', 0)/MiB:.0f}"
              f" MiB, reads@{args.cache}MiB {res['reads_big']['per_s']:,.0f}/s", flush=True)

        if system in bl.PERSISTENT:
            row["disk"] = bl.dir_size(path)
            row["disk"]["raw_payload"] = args.n * bl.STRLEN
            row["disk"]["ratio"] = row["disk"]["allocated"] / (args.n * bl.STRLEN)

            print(f"[{system}] reads with a {args.small_cache} MiB budget (fresh process) ...",
                  flush=True)
            rr = bl.run_child({**common, "task": "reads", "cache": args.small_cache * MiB,
                               "warm_reads": args.reads},
                              sample_interval=args.interval, workdir=tmp_root)
            if rr["result"] is None:
                row["reads_small"] = {"error": f"rc={rr['returncode']}: {rr['stderr'][-1500:]}"}
                print(f"[{system}] small-budget reads failed:\n{rr['stderr']}", flush=True)
            else:
                r = {k: v for k, v in rr["result"].items() if k not in ("event", "t")}
                rs = rr["samples"]
                t_rs = ev_time(rr, "reads_start")
                r["rss_peak_sampled"] = max((s[1] for s in rs), default=None)
                r["rss_peak_during_reads"] = max(
                    (s[1] for s in window(rs, ev_time(rr, "reads_warmup_start"),
                                          ev_time(rr, "reads_end"))), default=None)
                r["rss_median_during_timed_reads"] = statistics.median(
                    [s[1] for s in window(rs, t_rs, None)] or [0]) or None
                row["reads_small"] = r
                t0 = rr["t_start"]
                row["timeline_small"] = {
                    "t": [round(s[0] - t0, 3) for s in rs], "rss": [s[1] for s in rs],
                    "events": {e["event"]: round(e["t"] - t0, 3) for e in rr["events"]}}
                print(f"[{system}] reads@{args.small_cache}MiB {r['per_s']:,.0f}/s, "
                      f"peak RSS {r['rss_peak_sampled']/MiB:.0f} MiB", flush=True)

            firsts = []
            for _ in range(args.first_read_runs):
                fr = bl.run_child({**common, "task": "first_read", "cache": cache},
                                  sample_interval=args.interval, workdir=tmp_root)
                if fr["result"] is None:
                    firsts.append({"error": f"rc={fr['returncode']}: {fr['stderr'][-800:]}"})
                else:
                    firsts.append({k: v for k, v in fr["result"].items()
                                   if k not in ("event", "t")})
            good = [f for f in firsts if "open_to_first_read_s" in f]
            row["first_read"] = {
                "runs": firsts,
                "open_to_first_read_s_median": statistics.median(
                    [f["open_to_first_read_s"] for f in good]) if good else None,
                "import_s_median": statistics.median(
                    [f["import_s"] for f in good]) if good else None}
            if good:
                print(f"[{system}] init->first read (fresh process, median of {len(good)}): "
                      f"{row['first_read']['open_to_first_read_s_median']*1e3:.1f} ms "
                      f"(+ import {row['first_read']['import_s_median']*1e3:.0f} ms)", flush=True)
        return row
    finally:
        shutil.rmtree(store, ignore_errors=True)


def fmt(v, scale=1.0, spec=",.0f", unit=""):
    if v is None:
        return "-"
    return f"{v / scale:{spec}}{unit}"


def rate(d: dict | None) -> str:
    """overall reads/s, and the spread of the timed slices (max-min over median)."""
    if not d or d.get("per_s") is None:
        return "-"
    r = [x for x in d.get("slice_rates") or [] if x]
    spread = f" ±{50 * (max(r) - min(r)) / statistics.median(r):.0f}%" if len(r) > 1 else ""
    return f"{d['per_s']:,.0f}{spread}"


def table(rows, args) -> str:
    hdr = ["system", "scenario s", "extend/s", "base MiB", "steady MiB", "peak MiB",
           f"rd/s@{args.cache}M", f"rdpeak@{args.cache}M", f"rd/s@{args.small_cache}M",
           f"rdpeak@{args.small_cache}M",
           "open->1st ms", "import ms", "disk MiB", "disk/raw"]
    # pylist has no budget: its read figure is the loop's own cost, a floor for the others
    lines = [hdr]
    for r in rows:
        if "build" not in r:
            lines.append([r["system"], r.get("skipped") and "skipped" or "error"] +
                         [""] * (len(hdr) - 2))
            continue
        b, rss = r["build"], r["rss"]
        rs = r.get("reads_small", {})
        fr = r.get("first_read", {})
        d = r.get("disk", {})
        lines.append([
            r["system"], fmt(b["scenario_s"], spec=".2f"), fmt(b["extend_per_s"]),
            fmt(rss.get("baseline_after_import"), MiB, ".0f"),
            fmt(rss.get("steady_median"), MiB, ".0f"),
            fmt(rss.get("peak_scenario"), MiB, ".0f"),
            rate(b["reads_big"]), fmt(rss.get("peak_during_reads"), MiB, ".0f"),
            rate(rs),
            fmt(rs.get("rss_peak_during_reads"), MiB, ".0f"),
            fmt(fr.get("open_to_first_read_s_median"), 1e-3, ".1f"),
            fmt(fr.get("import_s_median") if fr else b["import_s"], 1e-3, ".0f"),
            fmt(d.get("allocated"), MiB, ".1f"), fmt(d.get("ratio"), spec=".2f")])
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(hdr))]
    out = []
    for k, l in enumerate(lines):
        out.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(l, widths))))
        if k == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def plot(rows, args, png: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[bench] matplotlib not available: no chart", flush=True)
        return False
    colors = {"pylist": "tab:gray", "pagefs": "tab:blue", "dbzero": "tab:orange",
              "sqlite": "tab:green", "lmdb": "tab:red"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    for r in rows:
        tl = r.get("timeline_build")
        if tl and tl["t"]:
            axes[0].plot(tl["t"], [x / MiB for x in tl["rss"]], label=r["system"],
                         color=colors[r["system"]])
            ext = tl["events"].get("extended")
            if ext is not None:
                axes[0].axvline(ext, ls=":", lw=0.8, color=axes[0].lines[-1].get_color())
        ts = r.get("timeline_small")
        if ts and ts["t"]:
            axes[1].plot(ts["t"], [x / MiB for x in ts["rss"]], label=r["system"],
                         color=colors[r["system"]])
    axes[0].axhline(args.cache, ls="--", color="grey", lw=0.8, label=f"budget {args.cache} MiB")
    axes[0].set_title(f"build: {args.n:,} x 12-char strings, batches of {args.batch:,}\n"
                      f"(dotted: extends done; then commit, {args.reads:,} random reads x2, close)",
                      fontsize=9)
    axes[1].axhline(args.small_cache, ls="--", color="grey", lw=0.8,
                    label=f"budget {args.small_cache} MiB")
    axes[1].set_title(f"reopen with {args.small_cache} MiB budget, random reads", fontsize=9)
    for ax in axes:
        ax.set_xlabel("seconds since process start")
        ax.set_ylabel("resident memory (VmRSS), MiB")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("RSS sampled every %.1f s from the parent process" % args.interval, fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5_000_000, help="total strings (default 5M)")
    ap.add_argument("--batch", type=int, default=50_000, help="strings per extend (50k)")
    ap.add_argument("--cache", type=int, default=128, help="cache budget, MiB (128)")
    ap.add_argument("--small-cache", type=int, default=16,
                    help="budget for the second read measurement, MiB (16)")
    ap.add_argument("--systems", default="pylist,pagefs,dbzero",
                    help="comma list from " + ",".join(bl.ALL_SYSTEMS))
    ap.add_argument("--reads", type=int, default=1_000_000,
                    help="random lst[i] reads per read measurement (1M)")
    ap.add_argument("--read-cap", type=float, default=120.0,
                    help="stop a read measurement after this many seconds (120)")
    ap.add_argument("--first-read-runs", type=int, default=5,
                    help="fresh processes for the init->first-read time (5)")
    ap.add_argument("--interval", type=float, default=0.1, help="RSS sampling period, s")
    ap.add_argument("--seed", type=int, default=12345)
    bl.add_common_args(ap)
    args = ap.parse_args(argv)

    systems = bl.chosen_systems(ap, args, bl.ALL_SYSTEMS, extra_pip=["matplotlib"])
    if "pagefs" in systems and not bl.available("pagefs")[0]:
        print("[pagefs] not installed: build and install it with `pip install .` from the "
              "repository root; its row is skipped", flush=True)

    os.makedirs(args.out, exist_ok=True)
    tmp_root = tempfile.mkdtemp(prefix="bench-seed-", dir=args.tmp)
    meta = {"scenario": {"n": args.n, "batch": args.batch, "cache_mib": args.cache,
                         "small_cache_mib": args.small_cache, "reads": args.reads,
                         "string": "12 chars from [a-zA-Z0-9], uniform, seeded",
                         "seed": args.seed},
            "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0],
                        "platform": platform.platform(),
                        "loadavg_start": os.getloadavg()},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "method": __doc__}
    rows = []
    try:
        for s in systems:
            rows.append(run_system(s, args, tmp_root))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    meta["machine"]["loadavg_end"] = os.getloadavg()
    notes = {s: bl.make_adapter(s, {}).notes for s in systems}
    for r in rows:
        r["adapter_notes"] = notes.get(r["system"])
    jpath = os.path.join(args.out, "seed.json")
    with open(jpath, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    png = os.path.join(args.out, "seed-rss.png")
    has_png = plot(rows, args, png)

    print()
    print(f"seed benchmark: {args.n:,} random 12-char strings, batches of {args.batch:,}, "
          f"budget {args.cache} MiB; {args.reads:,} random reads per read figure; "
          f"{os.cpu_count()} cores, load {meta['machine']['loadavg_start'][0]:.2f}"
          f"->{meta['machine']['loadavg_end'][0]:.2f}")
    print(table(rows, args))
    print("scenario s = init + extends + commit + close (generation excluded); base = RSS after "
          "import; steady = median RSS over the 2nd half of the extends; peak = max sampled RSS "
          "from start to end of commit; rd/s = random lst[i] after a warm-up pass of as many "
          "reads, ±half the spread of 5 timed slices (rdpeak = max RSS while reading; pylist: no budget, the figure is the loop's "
          "own cost); open->1st = init..lst[0] in a "
          "fresh process (median), import apart; disk = allocated bytes vs N*12.")
    for r in rows:
        if r.get("error"):
            print(f"  {r['system']}: ERROR {r['error'][:300]}")
        if r.get("skipped"):
            print(f"  {r['system']}: skipped ({r['skipped']})")
        b = r.get("build", {})
        m = (b.get("mismatches_big") or 0) + ((r.get("reads_small") or {}).get("mismatches") or 0)
        if m:
            print(f"  {r['system']}: {m} WRONG values among sampled reads")
    print(f"wrote {jpath}" + (f" and {png}" if has_png else ""))


if __name__ == "__main__":
    main()
