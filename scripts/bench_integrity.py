#!/usr/bin/env python3
"""Integrity trials: what a system does with a damaged store, and after kill -9.

Bit-flip mode (default)
  Build a store of --n strings once per system and close it.  Each trial copies the
  store, flips one random bit at a random offset of a random store file (files chosen
  with probability proportional to their size), reopens it in a fresh process and reads
  every element, comparing with the expected values.  Outcomes:
    detected    an exception was raised (at open or while reading)
    harmless    every value and the length were right
    wrong data  wrong values or length, and no error
    crash       the process died by a signal (or exited without a verdict)
    hang        no verdict within --timeout seconds (killed)

Kill mode (--kill)
  Each trial starts a writer on a fresh store that appends batches of --kill-batch
  strings and commits, writing the committed length to a side file after every commit
  returns; after its first commit, it is killed with SIGKILL at a random moment within
  --kill-max-delay s.  Then a fresh process reopens the store and reads everything.
  The length must be the last recorded committed length, or that plus one batch (a
  commit in flight when the kill came may or may not have landed).  Outcomes: ok,
  unopenable (error at open), detected (error while reading), wrong data, crash, hang.

Rows: pagefs and dbzero (--rivals adds sqlite and lmdb).  Figures only, no verdict.
Output: DIR/integrity.json (or DIR/integrity-kill.json) and a table on stdout.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

MiB = 1 << 20
FLIP_OUTCOMES = ["detected", "harmless", "wrong data", "crash", "hang"]
KILL_OUTCOMES = ["ok", "unopenable", "detected", "wrong data", "crash", "hang"]


def classify(run: dict, kill_mode: bool) -> tuple[str, dict]:
    info = {"rc": run["returncode"]}
    if run["timed_out"]:
        return "hang", info
    if run["signal"]:
        info["signal"] = signal.Signals(run["signal"]).name
        info["stderr"] = run["stderr"][-600:]
        return "crash", info
    res = run["result"]
    if res is None:
        info["stderr"] = run["stderr"][-600:]
        return "crash", info  # exited without a verdict (e.g. abort handler, os._exit)
    info.update({k: v for k, v in res.items() if k not in ("event", "t", "outcome")})
    out = res["outcome"]
    if out == "wrong":
        return "wrong data", info
    if kill_mode:
        if out == "harmless":
            return "ok", info
        if out == "detected" and res.get("where") == "open":
            return "unopenable", info
    return out, info


def is_decode_error(msg: str) -> bool:
    return "UnicodeDecodeError" in msg or "decode to UTF-8" in msg


def store_files(path: str) -> list[tuple[str, int]]:
    out = []
    for root, _d, names in os.walk(path):
        for n in names:
            p = os.path.join(root, n)
            size = os.path.getsize(p)
            if size > 0 and not os.path.islink(p):
                out.append((os.path.relpath(p, path), size))
    return sorted(out)


def flip_trials(system: str, args, tmp_root: str, rng: random.Random) -> dict:
    row: dict = {"system": system, "mode": "bitflip", "n": args.n}
    base = os.path.join(tmp_root, f"{system}-base")
    common = {"system": system, "n": args.n, "batch": args.batch, "seed": args.seed,
              "cache": args.cache * MiB}
    t0 = time.time()
    pop = bl.run_child({**common, "task": "populate", "path": base}, workdir=tmp_root)
    if pop["result"] is None:
        row["error"] = f"populate failed rc={pop['returncode']}: {pop['stderr'][-1500:]}"
        print(f"[{system}] {row['error']}", flush=True)
        return row
    files = store_files(base)
    row["store_files"] = files
    row["store_bytes"] = sum(s for _f, s in files)
    # control: the untouched store must read back right, or the trials mean nothing
    ctl = bl.run_child({**common, "task": "verify", "path": base}, timeout=args.timeout,
                       workdir=tmp_root)
    row["control"] = classify(ctl, False)[0]
    print(f"[{system}] store of {args.n:,} strings: {row['store_bytes']:,} bytes in "
          f"{len(files)} file(s); untouched store reads back: {row['control']}", flush=True)
    if row["control"] != "harmless":
        row["error"] = f"control read of the untouched store gave {row['control']}: {ctl['stderr'][-800:]}"
        return row
    total = row["store_bytes"]
    counts = collections.Counter()
    trials = []
    trial_dir = os.path.join(tmp_root, f"{system}-trial")
    for k in range(args.trials):
        shutil.rmtree(trial_dir, ignore_errors=True)
        shutil.copytree(base, trial_dir)
        pick = rng.randrange(total)
        for fname, size in files:
            if pick < size:
                break
            pick -= size
        offset, bit = pick, rng.randrange(8)
        fpath = os.path.join(trial_dir, fname)
        with open(fpath, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)[0]
            f.seek(offset)
            f.write(bytes([byte ^ (1 << bit)]))
        ts = time.time()
        run = bl.run_child({**common, "task": "verify", "path": trial_dir},
                           timeout=args.timeout, workdir=tmp_root)
        outcome, info = classify(run, False)
        counts[outcome] += 1
        trials.append({"file": fname, "offset": offset, "bit": bit, "file_size": dict(files)[fname],
                       "outcome": outcome, "secs": round(time.time() - ts, 3), **info})
        if (k + 1) % max(1, args.trials // 10) == 0 or k + 1 == args.trials:
            print(f"[{system}] {k + 1}/{args.trials} trials: " +
                  ", ".join(f"{o} {counts[o]}" for o in FLIP_OUTCOMES if counts[o]), flush=True)
    shutil.rmtree(trial_dir, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    row["counts"] = {o: counts[o] for o in FLIP_OUTCOMES}
    # an error that only comes from decoding text (the bytes were wrong and happened not to
    # be valid UTF-8) is "detected" by luck, not by the store: count those apart
    row["detected_by_text_decoding"] = sum(
        1 for t in trials if t["outcome"] == "detected" and is_decode_error(t.get("error", "")))
    row["trials"] = trials
    row["secs"] = time.time() - t0
    return row


def kill_trials(system: str, args, tmp_root: str, rng: random.Random) -> dict:
    row: dict = {"system": system, "mode": "kill", "kill_batch": args.kill_batch,
                 "kill_max_delay": args.kill_max_delay}
    counts = collections.Counter()
    trials = []
    t0 = time.time()
    for k in range(args.trials):
        d = os.path.join(tmp_root, f"{system}-kill")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        path, side = os.path.join(d, "db"), os.path.join(d, "committed")
        task = {"system": system, "path": path, "side": side, "batch": args.kill_batch,
                "seed": args.seed + k, "cache": args.cache * MiB, "task": "writer",
                "max_batches": args.kill_max_batches}
        if system == "dbzero":
            task["autocommit"] = False  # only explicit commits, so lengths are batch multiples
        delay = rng.uniform(0, args.kill_max_delay)
        w = bl.run_child(task, kill_after=delay, kill_when_event="first_commit",
                         timeout=args.kill_max_delay + 120, workdir=tmp_root)
        trial = {"delay": round(delay, 3), "writer_killed": w["killed"]}
        if not w["killed"]:
            trial.update(outcome="writer ended early", rc=w["returncode"],
                         stderr=w["stderr"][-800:])
            counts["writer ended early"] += 1
            trials.append(trial)
            print(f"[{system}] writer was not killed (rc={w['returncode']}): "
                  f"{w['stderr'][-400:]}", flush=True)
            if k == 0:
                break
            continue
        try:
            with open(side) as f:
                committed = int(f.read())
        except FileNotFoundError:
            committed = 0
        accept = [committed, committed + args.kill_batch]
        ts = time.time()
        run = bl.run_child({"system": system, "path": path, "batch": args.kill_batch,
                            "seed": args.seed + k, "cache": args.cache * MiB, "task": "verify",
                            "accept_lengths": accept, "autocommit": False},
                           timeout=args.timeout, workdir=tmp_root)
        outcome, info = classify(run, True)
        counts[outcome] += 1
        trial.update(outcome=outcome, committed_recorded=committed,
                     verify_secs=round(time.time() - ts, 3), **info)
        trials.append(trial)
        shutil.rmtree(d, ignore_errors=True)
        if (k + 1) % max(1, args.trials // 10) == 0 or k + 1 == args.trials:
            print(f"[{system}] {k + 1}/{args.trials} kills: " +
                  ", ".join(f"{o} {c}" for o, c in counts.items()), flush=True)
    row["counts"] = {o: counts[o] for o in KILL_OUTCOMES}
    if counts["writer ended early"]:
        row["counts"]["writer ended early"] = counts["writer ended early"]
    row["trials"] = trials
    row["secs"] = time.time() - t0
    lens = [t["committed_recorded"] for t in trials if "committed_recorded" in t]
    if lens:
        row["committed_length_range"] = [min(lens), max(lens)]
    return row


def table(rows, outcomes) -> str:
    hdr = ["system", "trials"] + outcomes + ["s/trial"]
    lines = [hdr]
    for r in rows:
        if "counts" not in r:
            lines.append([r["system"], r.get("skipped") and "skipped" or "error"] +
                         [""] * (len(hdr) - 2))
            continue
        n = len(r["trials"])
        lines.append([r["system"], str(n)] + [str(r["counts"].get(o, 0)) for o in outcomes] +
                     [f"{r['secs'] / max(1, n):.2f}"])
    w = [max(len(l[i]) for l in lines) for i in range(len(hdr))]
    out = ["  ".join(c.rjust(x) if i else c.ljust(x) for i, (c, x) in enumerate(zip(l, w)))
           for l in lines]
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="strings in the store (200k)")
    ap.add_argument("--batch", type=int, default=50_000, help="strings per extend (50k)")
    ap.add_argument("--cache", type=int, default=128, help="cache budget, MiB (128)")
    ap.add_argument("--trials", type=int, default=200, help="trials per system (200)")
    ap.add_argument("--systems", default="pagefs,dbzero",
                    help="comma list from pagefs,dbzero,sqlite,lmdb")
    ap.add_argument("--kill", action="store_true", help="kill -9 trials instead of bit flips")
    ap.add_argument("--kill-batch", type=int, default=10_000,
                    help="strings appended per commit by the kill-mode writer (10k)")
    ap.add_argument("--kill-max-delay", type=float, default=2.0,
                    help="kill at a uniform random time up to this many s after the first "
                         "commit (2.0)")
    ap.add_argument("--kill-max-batches", type=int, default=2000,
                    help="the writer stops by itself after this many commits (2000)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="a verifying process with no verdict after this many s is a hang")
    ap.add_argument("--seed", type=int, default=4242)
    bl.add_common_args(ap)
    args = ap.parse_args(argv)

    systems = bl.chosen_systems(ap, args, bl.PERSISTENT)

    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    tmp_root = tempfile.mkdtemp(prefix="bench-integrity-", dir=args.tmp)
    rows = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        for s in systems:
            ok, why = bl.available(s)
            if not ok:
                print(f"[{s}] not available ({why}); skipped", flush=True)
                rows.append({"system": s, "skipped": why})
                continue
            rows.append(kill_trials(s, args, tmp_root, rng) if args.kill
                        else flip_trials(s, args, tmp_root, rng))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    meta = {"mode": "kill" if args.kill else "bitflip", "args": vars(args), "started": started,
            "notes": {s: bl.make_adapter(s, {}).notes for s in systems},
            "method": __doc__}
    jpath = os.path.join(args.out, "integrity-kill.json" if args.kill else "integrity.json")
    with open(jpath, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    print()
    if args.kill:
        print(f"kill -9 trials: writer appends {args.kill_batch:,} strings per commit, killed "
              f"at a random moment up to {args.kill_max_delay} s after its first commit; then "
              f"reopen and read all")
        print(table(rows, KILL_OUTCOMES))
    else:
        print(f"bit-flip trials: store of {args.n:,} strings, one random bit flipped per trial "
              f"(file chosen by size), reopen and read all")
        print(table(rows, FLIP_OUTCOMES))
    for r in rows:
        if r.get("detected_by_text_decoding"):
            print(f"  {r['system']}: {r['detected_by_text_decoding']} of the 'detected' were only "
                  f"a text-decoding error (wrong bytes that were not valid UTF-8)")
        errs = collections.Counter(t.get("error", "").split(":")[0] for t in r.get("trials", [])
                                   if t.get("outcome") in ("detected", "unopenable"))
        if errs:
            print(f"  {r['system']}: errors raised: " +
                  ", ".join(f"{e} x{c}" for e, c in errs.most_common(6)))
        if r.get("error"):
            print(f"  {r['system']}: ERROR {r['error'][:400]}")
    print(f"wrote {jpath}")


if __name__ == "__main__":
    main()
