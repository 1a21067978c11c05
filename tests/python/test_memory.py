"""The memory bound: a scaled-down seed run (1M strings under a 16 MiB budget)
stays within baseline + budget + a margin for the interpreter's transient
batches. A bound, not a timing."""

from __future__ import annotations

import json

from conftest import run_python

BUDGET = 16 << 20
MARGIN = 24 << 20


def test_peak_rss_stays_under_budget(tmp_path):
    proc = run_python(
        """
        import json, random, string, sys, threading, time
        import pagefs

        def rss():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
            return 0

        pagefs.init(sys.argv[1], prefix="data", cache_size=int(sys.argv[2]))
        rng = random.Random(1)
        alphabet = string.ascii_letters
        warm = pagefs.list(["warm-up"] * 1000)  # import and first-use costs go into the baseline
        del warm
        baseline = rss()
        peak = [baseline]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        lst = pagefs.list()
        for _ in range(20):
            lst.extend(["".join(rng.choices(alphabet, k=12)) for _ in range(50_000)])
            peak[0] = max(peak[0], rss())
        n = len(lst)
        total = 0
        for i in range(0, n, 997):
            total += len(lst[i])
        for x in lst:  # a full scan
            pass
        peak[0] = max(peak[0], rss())
        pagefs.root()["big"] = lst
        pagefs.commit()
        peak[0] = max(peak[0], rss())
        done.set()
        sampler.join()
        print(json.dumps({"n": n, "baseline": baseline, "peak": peak[0], "stats": pagefs.stats()}))
        pagefs.close()
        """,
        str(tmp_path),
        str(BUDGET),
        timeout=170,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["n"] == 1_000_000
    grown = result["peak"] - result["baseline"]
    assert result["peak"] <= result["baseline"] + BUDGET + MARGIN, (
        f"peak RSS grew by {grown / 2**20:.1f} MiB over a {BUDGET >> 20} MiB budget: {result}"
    )
    assert result["stats"]["resident_bytes"] <= BUDGET
