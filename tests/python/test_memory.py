"""The memory bound: a scaled-down seed run (1M strings under a 16 MiB budget),
a dict and a set at 10x a 1 MiB budget,
stays within baseline + budget + a margin for the interpreter's transient
batches. A bound, not a timing."""

from __future__ import annotations

import json

from conftest import MOUNT_MODE, run_python

BUDGET = 16 << 20
MARGIN = 24 << 20


def test_peak_rss_stays_under_budget(tmp_path):
    proc = run_python(
        """
        import json, os, random, string, sys, threading, time
        import pagefs

        def rss():
            # Through a mount, the pages the process maps of the mount's files are
            # the kernel's page cache, shared and counted in the daemon's budget
            # (tests/fs/test_budget.py): the process's own memory is the rest.
            fields = {}
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "RssFile:")):
                        fields[line.split(":")[0]] = int(line.split()[1]) * 1024
            if os.environ.get("PAGEFS_TEST_MODE") == "mount":
                return fields.get("VmRSS", 0) - fields.get("RssFile", 0)
            return fields.get("VmRSS", 0)

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


HASH_BUDGET = 1 << 20
HASH_MARGIN = 8 << 20


def test_dict_and_set_at_ten_times_the_budget_stay_under_it_and_reopen(tmp_path):
    """A dict and a set whose pages take more than 10x a 1 MiB budget: built
    by update batches, looked up (hits and misses), iterated, committed; the
    resident memory stays at baseline + budget + a margin, and a new process
    finds every item."""
    proc = run_python(
        """
        import json, os, random, sys, threading, time
        import pagefs

        def rss():
            # Through a mount, the pages the process maps of the mount's files are
            # the kernel's page cache, shared and counted in the daemon's budget
            # (tests/fs/test_budget.py): the process's own memory is the rest.
            fields = {}
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "RssFile:")):
                        fields[line.split(":")[0]] = int(line.split()[1]) * 1024
            if os.environ.get("PAGEFS_TEST_MODE") == "mount":
                return fields.get("VmRSS", 0) - fields.get("RssFile", 0)
            return fields.get("VmRSS", 0)

        pagefs.init(sys.argv[1], prefix="data", cache_size=int(sys.argv[2]))
        n = 250_000
        key = lambda i: "key-%012d-%s" % (i, "x" * (i % 7))
        warm = pagefs.dict((key(i), i) for i in range(1000))  # first-use costs into the baseline
        warm_set = pagefs.set(key(i) for i in range(1000))
        del warm, warm_set
        baseline = rss()
        peak = [baseline]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        d = pagefs.dict()
        s = pagefs.set()
        for start in range(0, n, 10_000):
            d.update((key(i), i) for i in range(start, start + 10_000))
            s.update(key(i) for i in range(start, start + 10_000, 2))
        rng = random.Random(3)
        for _ in range(6_000):  # mostly misses of the budget: FUSE round trips through a mount
            i = rng.randrange(n)
            assert d[key(i)] == i
            assert (key(i) in s) == (i % 2 == 0)
            assert key(n + i) not in d
        count = 0
        for k, v in d.items():
            count += 1
        assert count == n and len(s) == n // 2
        pagefs.root()["d"] = d
        pagefs.root()["s"] = s
        pagefs.commit()
        peak[0] = max(peak[0], rss())
        done.set()
        sampler.join()
        print(json.dumps({"baseline": baseline, "peak": peak[0], "stats": pagefs.stats()}))
        pagefs.close()
        """,
        str(tmp_path),
        str(HASH_BUDGET),
        timeout=600,  # through a mount every page miss is a FUSE round trip
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    stats = result["stats"]
    # pages: what the store holds (bytes_on_disk is the segment files', 0 through a mount).
    assert stats["pages"] * stats["page_size"] >= 10 * HASH_BUDGET, f"should be 10x the budget: {stats}"
    if not MOUNT_MODE:  # through a mount the daemon holds the budget; the process a small cache
        assert stats["resident_bytes"] <= HASH_BUDGET
    grown = result["peak"] - result["baseline"]
    assert result["peak"] <= result["baseline"] + HASH_BUDGET + HASH_MARGIN, (
        f"peak RSS grew by {grown / 2**20:.1f} MiB over a {HASH_BUDGET >> 20} MiB budget: {result}"
    )
    reopened = run_python(
        """
        import sys
        import pagefs
        pagefs.init(sys.argv[1], prefix="data", cache_size=1 << 20)
        d, s = pagefs.root()["d"], pagefs.root()["s"]
        key = lambda i: "key-%012d-%s" % (i, "x" * (i % 7))
        assert len(d) == 250_000 and len(s) == 125_000
        assert next(iter(d.items())) == (key(0), 0)
        assert next(reversed(d)) == key(249_999)
        assert all(d[key(i)] == i for i in range(0, 250_000, 997))
        assert all(key(i) in s for i in range(0, 250_000, 998))
        assert key(1) not in s
        pagefs.close()
        """,
        str(tmp_path),
        timeout=120,
    )
    assert reopened.returncode == 0
