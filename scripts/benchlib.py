"""Shared pieces of the pagefs benchmarks (bench_seed.py, bench_integrity.py).

One adapter per system gives the same small surface (create, open, extend, commit,
set_cache, close), so the scenarios are written once.  The parent scripts never import
a storage system themselves: every measurement runs in a child process started as

    python scripts/benchlib.py '<json task>'

so that its resident memory can be sampled from outside and its import cost is its own.
The child prints one JSON object per line (events with wall-clock timestamps, and a
final "result"); the parent reads them from a file after the child exits.

Nothing here asserts speed: the scripts print figures.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
STRLEN = 12

ALL_SYSTEMS = ["pylist", "pagefs", "dbzero", "sqlite", "lmdb"]
MODULE_OF = {"pylist": None, "pagefs": "pagefs", "dbzero": "dbzero", "sqlite": "sqlite3",
             "lmdb": "lmdb"}
PERSISTENT = {"pagefs", "dbzero", "sqlite", "lmdb"}


# --------------------------------------------------------------------------- data
def gen_batch(seed: int, batch_no: int, size: int) -> list[str]:
    """Deterministic batch `batch_no` of `size` random 12-char strings (uniform over
    ascii letters + digits).  Element i of the whole sequence is gen_batch(i // size)[i % size],
    so any process can recompute the expected values."""
    rng = random.Random(seed * 1_000_003 + batch_no)
    s = "".join(rng.choices(ALPHABET, k=STRLEN * size))
    return [s[j:j + STRLEN] for j in range(0, STRLEN * size, STRLEN)]


def expected_at(seed: int, batch: int, indices) -> dict[int, str]:
    by_batch: dict[int, list[int]] = {}
    for i in indices:
        by_batch.setdefault(i // batch, []).append(i)
    out = {}
    for b, ids in by_batch.items():
        vals = gen_batch(seed, b, batch)
        for i in ids:
            out[i] = vals[i % batch]
    return out


# --------------------------------------------------------------------------- /proc
def proc_mem(pid: int | str = "self") -> dict[str, int] | None:
    """VmRSS / RssAnon / RssFile / VmHWM of a process in bytes, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out if "VmRSS" in out else None


def dir_size(path: str) -> dict[str, int]:
    """Allocated bytes (like du) and apparent bytes of every file under path."""
    alloc = apparent = files = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                st = os.lstat(os.path.join(root, n))
            except FileNotFoundError:
                continue
            alloc += st.st_blocks * 512
            apparent += st.st_size
            files += 1
    return {"allocated": alloc, "apparent": apparent, "files": files}


def available(system: str) -> tuple[bool, str]:
    mod = MODULE_OF[system]
    if mod is None:
        return True, "builtin"
    if importlib.util.find_spec(mod) is None:
        return False, f"python module '{mod}' not found"
    return True, "found"


def ensure_pip(packages: list[str], allow_install: bool) -> None:
    """Install optional pure-benchmark dependencies (requirements-bench.txt) if missing."""
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if not missing:
        return
    if not allow_install:
        print(f"[bench] missing optional packages: {missing} (pip install -r "
              f"{os.path.join(HERE, 'requirements-bench.txt')})", flush=True)
        return
    print(f"[bench] installing missing optional packages with pip: {missing}", flush=True)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing])
    if r.returncode != 0:
        print(f"[bench] pip install failed for {missing}; going on without them", flush=True)
    importlib.invalidate_caches()


# --------------------------------------------------------------------------- child runner
def run_child(task: dict, sample_interval: float = 0.1, timeout: float | None = None,
              workdir: str | None = None, kill_after: float | None = None,
              kill_when_event: str | None = None, script: str | None = None,
              env: dict | None = None, disk_limit: tuple[str, int] | None = None) -> dict:
    """Run one task in a child process, sampling its memory every `sample_interval` s.
    The child is `python <script> '<json task>'` (script: this file by default), with
    `env` added to this process's environment.

    Returns {"returncode", "signal", "events", "result", "samples", "stderr", "t_start",
    "timed_out", "killed", "over_disk"}.  kill_after: send SIGKILL that many seconds after
    the event named `kill_when_event` appeared (or after start when None).  disk_limit
    (folder, bytes): the child is killed once the folder holds more (looked at every
    second), so that a system that writes without bound cannot fill the disk."""
    import signal
    import tempfile
    fd, outpath = tempfile.mkstemp(prefix="bench-child-", suffix=".jsonl", dir=workdir)
    os.close(fd)
    errpath = outpath + ".err"
    t_start = time.time()
    with open(outpath, "w") as out, open(errpath, "w") as err:
        p = subprocess.Popen([sys.executable, script or os.path.join(HERE, "benchlib.py"), json.dumps(task)],
                             stdout=out, stderr=err, cwd=HERE,
                             env=None if env is None else dict(os.environ, **env))
    samples = []
    timed_out = killed = over_disk = False
    next_disk_look = t_start + 1.0
    kill_at = None if kill_after is None or kill_when_event else t_start + kill_after
    next_t = time.time()
    while p.poll() is None:
        now = time.time()
        m = proc_mem(p.pid)
        if m is not None and p.poll() is None:
            samples.append((now, m["VmRSS"], m.get("RssAnon", 0), m.get("RssFile", 0)))
        if kill_when_event and kill_at is None:
            with open(outpath) as f:
                if f'"event": "{kill_when_event}"' in f.read():
                    kill_at = time.time() + kill_after
        if kill_at is not None and time.time() >= kill_at:
            p.send_signal(signal.SIGKILL)
            killed = True
            p.wait()
            break
        if timeout is not None and now - t_start > timeout:
            p.kill()
            p.wait()
            timed_out = True
            break
        if disk_limit is not None and now >= next_disk_look:
            next_disk_look = now + 1.0
            if dir_size(disk_limit[0])["allocated"] > disk_limit[1]:
                p.kill()
                p.wait()
                over_disk = True
                break
        next_t += sample_interval
        time.sleep(max(0.0, next_t - time.time()))
    rc = p.wait()
    events, result = [], None
    with open(outpath) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("event") == "result":
                result = obj
            else:
                events.append(obj)
    with open(errpath) as f:
        stderr = f.read()
    os.unlink(outpath)
    os.unlink(errpath)
    return {"returncode": rc, "signal": -rc if rc < 0 else None, "events": events,
            "result": result, "samples": samples, "stderr": stderr[-4000:],
            "t_start": t_start, "timed_out": timed_out, "killed": killed,
            "over_disk": over_disk}


# =========================================================================== child side
def emit(event: str, **kw) -> None:
    kw["event"] = event
    kw.setdefault("t", time.time())
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Adapter:
    """One storage system.  `lst` is the list-like object after create/open."""
    name = "?"
    persistent = True
    notes = ""

    def import_(self):
        pass

    def create(self, path: str, cache: int):
        raise NotImplementedError

    def open(self, path: str, cache: int):
        raise NotImplementedError

    def extend(self, batch):
        self.lst.extend(batch)

    def get(self, i):
        return self.lst[i]

    def length(self):
        return len(self.lst)

    def iterate(self):
        return iter(self.lst)

    def commit(self):
        pass

    def set_cache(self, cache: int):
        raise NotImplementedError

    def close(self):
        pass


class PyList(Adapter):
    name = "pylist"
    persistent = False
    notes = "plain Python list in RAM; no persistence, no budget"

    def create(self, path, cache):
        self.lst = []


class PageFS(Adapter):
    name = "pagefs"
    notes = "pagefs.init(root, prefix='data'); set_cache_size; list(); root()['results']"

    def import_(self):
        import pagefs
        self.db = pagefs

    def _init(self, path, cache):
        self.db.init(path, prefix="data")
        self.db.set_cache_size(cache)

    def create(self, path, cache):
        self._init(path, cache)
        self.lst = self.db.list()
        self.db.root()["results"] = self.lst

    def open(self, path, cache):
        self._init(path, cache)
        self.lst = self.db.root()["results"]

    def commit(self):
        c = getattr(self.db, "commit", None)
        if c is not None:
            c()

    def set_cache(self, cache):
        self.db.set_cache_size(cache)

    def close(self):
        self.db.close()


class DbZero(Adapter):
    name = "dbzero"
    notes = ("dbzero.init(root, prefix='data', autocommit=<default True|False in kill trials>); "
             "set_cache_size; list() held by a @memo(singleton=True) class")

    def __init__(self, autocommit=None):
        self.autocommit = autocommit

    def import_(self):
        import dbzero
        self.db = dbzero
        sys.path.insert(0, HERE)
        import bench_dbzero_model  # the singleton that anchors the list across reopen
        self.model = bench_dbzero_model

    def _init(self, path, cache):
        kw = {"prefix": "data"}
        if self.autocommit is not None:
            kw["autocommit"] = self.autocommit
        self.db.init(path, **kw)
        self.db.set_cache_size(cache)

    def create(self, path, cache):
        self._init(path, cache)
        self.lst = self.db.list()
        self.root = self.model.BenchRoot(self.lst)

    def open(self, path, cache):
        self._init(path, cache)
        if not self.db.exists(self.model.BenchRoot):
            raise RuntimeError("dbzero: BenchRoot singleton not found in store")
        self.root = self.db.fetch(self.model.BenchRoot)
        self.lst = self.root.results

    def commit(self):
        self.db.commit()

    def set_cache(self, cache):
        self.db.set_cache_size(cache)

    def close(self):
        self.lst = self.root = None
        self.db.close()


class SQLite(Adapter):
    name = "sqlite"
    notes = ("sqlite3 rowid table t(id INTEGER PRIMARY KEY, s TEXT), journal_mode=WAL, "
             "synchronous=FULL, PRAGMA cache_size=-<budget KiB>; lst[i] = SELECT by rowid")

    def import_(self):
        import sqlite3
        self.sq = sqlite3

    def _connect(self, path, cache):
        os.makedirs(path, exist_ok=True)
        self.con = self.sq.connect(os.path.join(path, "data.sqlite"), isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.set_cache(cache)

    def create(self, path, cache):
        self._connect(path, cache)
        self.con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT NOT NULL)")
        self.n = 0
        self.con.execute("BEGIN")

    def open(self, path, cache):
        self._connect(path, cache)
        # ids are 0..n-1, so max(id)+1 is the length without a full count(*) scan
        self.n = self.con.execute("SELECT coalesce(max(id) + 1, 0) FROM t").fetchone()[0]
        self.con.execute("BEGIN")

    def extend(self, batch):
        n = self.n
        self.con.executemany("INSERT INTO t(id, s) VALUES (?, ?)",
                             zip(range(n, n + len(batch)), batch))
        self.n = n + len(batch)

    def get(self, i):
        if i < 0:
            i += self.n
        row = self.con.execute("SELECT s FROM t WHERE id=?", (i,)).fetchone()
        if row is None:
            raise IndexError(i)
        return row[0]

    def length(self):
        return self.n

    def iterate(self):
        return (r[0] for r in self.con.execute("SELECT s FROM t ORDER BY id"))

    def commit(self):
        self.con.execute("COMMIT")
        self.con.execute("BEGIN")

    def set_cache(self, cache):
        self.con.execute(f"PRAGMA cache_size=-{max(1, cache // 1024)}")

    def close(self):
        if self.con.in_transaction:
            self.con.execute("COMMIT")
        self.con.close()


class LMDB(Adapter):
    name = "lmdb"
    notes = ("lmdb key=index (8-byte big-endian) value=utf-8 bytes, one write txn per commit, "
             "memory-mapped: no cache budget (the OS decides, RssFile)")

    def import_(self):
        import lmdb
        self.lm = lmdb

    def _env(self, path):
        self.env = self.lm.open(path, map_size=64 << 30, subdir=True, lock=True)

    def create(self, path, cache):
        self._env(path)
        self.n = 0
        self.txn = self.env.begin(write=True)

    def open(self, path, cache):
        self._env(path)
        self.n = self.env.stat()["entries"]
        self.txn = self.env.begin(write=True)

    def extend(self, batch):
        n = self.n
        with self.txn.cursor() as cur:
            cur.putmulti(((i.to_bytes(8, "big"), s.encode()) for i, s in
                          zip(range(n, n + len(batch)), batch)), append=True)
        self.n = n + len(batch)

    def get(self, i):
        if i < 0:
            i += self.n
        v = self.txn.get(i.to_bytes(8, "big"))
        if v is None:
            raise IndexError(i)
        return v.decode()

    def length(self):
        return self.n

    def iterate(self):
        return (v.decode() for _k, v in self.txn.cursor())

    def commit(self):
        self.txn.commit()
        self.txn = self.env.begin(write=True)

    def set_cache(self, cache):
        pass  # no budget in LMDB

    def close(self):
        self.txn.commit()
        self.env.close()


def make_adapter(name: str, task: dict) -> Adapter:
    if name == "dbzero":
        return DbZero(autocommit=task.get("autocommit"))
    return {"pylist": PyList, "pagefs": PageFS, "sqlite": SQLite, "lmdb": LMDB}[name]()


def rss_now() -> dict:
    return proc_mem("self") or {}


def timed_reads(a: Adapter, idx, time_cap: float, rounds: int = 5) -> tuple[int, float, list]:
    """Read a.get(i) for i in idx, in `rounds` equal slices timed one by one (a noisy
    machine shows up as spread between slices); stop after time_cap seconds."""
    get = a.get
    n = len(idx)
    per = max(1, -(-n // rounds))
    done, total, rates = 0, 0.0, []
    for start in range(0, n, per):
        part = idx[start:start + per]
        t0 = time.perf_counter()
        for i in part:
            get(i)
        dt = time.perf_counter() - t0
        total += dt
        done += len(part)
        rates.append(len(part) / dt if dt else None)
        if total > time_cap:
            break
    return done, total, rates


def random_indices(n_items: int, count: int, seed: int):
    from array import array
    rng = random.Random(seed)
    return array("I" if n_items < 2**32 else "q", (rng.randrange(n_items) for _ in range(count)))


def check_sample(a: Adapter, n: int, seed: int, batch: int, k: int = 16) -> int:
    """Number of mismatches among k random elements (cheap sanity check of reads)."""
    rng = random.Random(seed ^ 0x5EED)
    ids = [rng.randrange(n) for _ in range(k)] + [0, n - 1]
    exp = expected_at(seed, batch, ids)
    return sum(1 for i in ids if a.get(i) != exp[i])


# --------------------------------------------------------------------------- child tasks
def task_build(task: dict) -> dict:
    """Seed build: import, create, extend n strings in batches, commit, read at the big
    budget (in cache), optionally shrink the budget and read again, close."""
    t0 = time.perf_counter()
    a = make_adapter(task["system"], task)
    a.import_()
    import_s = time.perf_counter() - t0
    gc_disable = task.get("gc_disable", False)
    import gc
    if gc_disable:
        gc.disable()
    base = rss_now()
    emit("imported", import_s=import_s, rss=base)
    n, batch, seed, cache = task["n"], task["batch"], task["seed"], task["cache"]
    emit("start")
    t_scn0 = time.perf_counter()
    a.create(task["path"], cache)
    create_s = time.perf_counter() - t_scn0
    emit("created", create_s=create_s)
    extend_s = gen_s = 0.0
    nb = (n + batch - 1) // batch
    for b in range(nb):
        tg = time.perf_counter()
        vals = gen_batch(seed, b, min(batch, n - b * batch))
        te = time.perf_counter()
        a.extend(vals)
        t1 = time.perf_counter()
        gen_s += te - tg
        extend_s += t1 - te
        del vals
        if b == nb // 2:
            emit("half_extended")
    emit("extended", extend_s=extend_s, gen_s=gen_s)
    tc = time.perf_counter()
    a.commit()
    commit_s = time.perf_counter() - tc
    emit("committed", commit_s=commit_s)
    length = a.length()
    res = {"import_s": import_s, "baseline_rss": base, "create_s": create_s, "extend_s": extend_s, "gen_s": gen_s,
           "commit_s": commit_s, "length": length,
           "extend_per_s": n / extend_s if extend_s else None}

    # reads with the data in cache: a sanity check of a few values, one warm-up pass
    # (other indices), then the timed pass
    res["mismatches_big"] = check_sample(a, length, seed, batch)
    reads = task["reads"]
    idx = random_indices(length, reads, seed + 1)
    emit("reads_warmup_start")
    wd, ws, _ = timed_reads(a, idx, task["read_cap"])
    idx = random_indices(length, reads, seed + 2)
    emit("reads_big_start", warm_done=wd, warm_s=ws)
    done, secs, rates = timed_reads(a, idx, task["read_cap"])
    del idx
    res["reads_big"] = {"count": done, "secs": secs, "per_s": done / secs if secs else None,
                        "slice_rates": rates, "warmup_count": wd, "warmup_secs": ws,
                        "cache": cache}
    emit("reads_big_end", **res["reads_big"])
    res["rss_after_reads_big"] = rss_now()
    tcl = time.perf_counter()
    a.close()
    close_s = time.perf_counter() - tcl
    res["close_s"] = close_s
    # the seed scenario proper: init/create + all extends + commit + close (generation
    # and the read measurements excluded)
    res["scenario_s"] = create_s + extend_s + commit_s + close_s
    emit("closed", close_s=close_s)
    res["vmhwm"] = rss_now().get("VmHWM")
    return res


def task_reads(task: dict) -> dict:
    """Fresh process: open the existing store with budget `cache`, warm up, time reads."""
    t0 = time.perf_counter()
    a = make_adapter(task["system"], task)
    a.import_()
    import_s = time.perf_counter() - t0
    base = rss_now()
    emit("imported", import_s=import_s, rss=base)
    cache, seed = task["cache"], task["seed"]
    a.open(task["path"], cache)
    length = a.length()
    emit("opened", length=length)
    mism = check_sample(a, length, seed, task["batch"])
    reads = task["reads"]
    idx = random_indices(length, min(reads, task.get("warm_reads", reads)), seed + 3)
    emit("reads_warmup_start")
    wd, ws, _ = timed_reads(a, idx, task["read_cap"])
    idx = random_indices(length, reads, seed + 4)
    emit("reads_start", warm_done=wd, warm_s=ws)
    rss_before = rss_now()
    done, secs, rates = timed_reads(a, idx, task["read_cap"])
    emit("reads_end", count=done, secs=secs)
    rss_after = rss_now()
    a.close()
    return {"import_s": import_s, "baseline_rss": base, "length": length, "cache": cache,
            "count": done, "secs": secs, "per_s": done / secs if secs else None,
            "slice_rates": rates, "warmup_count": wd, "warmup_secs": ws, "mismatches": mism,
            "rss_before_reads": rss_before, "rss_after_reads": rss_after,
            "vmhwm": rss_now().get("VmHWM")}


def task_first_read(task: dict) -> dict:
    """Fresh process: import (timed apart), then init/open -> first element read."""
    t0 = time.perf_counter()
    a = make_adapter(task["system"], task)
    a.import_()
    t1 = time.perf_counter()
    a.open(task["path"], task["cache"])
    x = a.get(0)
    t2 = time.perf_counter()
    ok = x == gen_batch(task["seed"], 0, 1)[0]
    a.close()
    return {"import_s": t1 - t0, "open_to_first_read_s": t2 - t1, "first_ok": ok}


def task_verify(task: dict) -> dict:
    """Integrity check: open and compare every element with the generator.
    Prints {"outcome": ...}: 'harmless' (all equal), 'wrong' (values/length differ, no
    error), 'detected' (an exception was raised; `where` says at open or read)."""
    a = make_adapter(task["system"], task)
    a.import_()
    seed, batch = task["seed"], task["batch"]
    where = "open"
    try:
        a.open(task["path"], task["cache"])
        where = "len"
        n = a.length()
        accept = task.get("accept_lengths")
        expect_n = task.get("n")
        wrong = []
        if accept is not None:
            if n not in accept:
                wrong.append(f"length {n} not in committed lengths {accept}")
        elif n != expect_n:
            wrong.append(f"length {n} != {expect_n}")
        where = "read"
        i = 0
        mism = 0
        first_bad = None
        it = a.iterate()
        nb = (n + batch - 1) // batch
        for b in range(nb):
            exp = gen_batch(seed, b, batch)
            for k in range(min(batch, n - b * batch)):
                v = next(it)
                if v != exp[k]:
                    mism += 1
                    if first_bad is None:
                        first_bad = i
                i += 1
        if mism:
            wrong.append(f"{mism} wrong values, first at {first_bad}")
        where = "close"
        a.close()
        if wrong:
            return {"outcome": "wrong", "detail": "; ".join(wrong), "length": n}
        return {"outcome": "harmless", "length": n}
    except BaseException as e:  # noqa: BLE001 - any raised error counts as detected
        return {"outcome": "detected", "where": where,
                "error": f"{type(e).__name__}: {str(e)[:300]}"}


def task_writer(task: dict) -> dict:
    """Kill-trial writer: append batches and commit forever; after every commit returns,
    record the committed length in the side file (atomic rename)."""
    a = make_adapter(task["system"], task)
    a.import_()
    a.create(task["path"], task["cache"])
    a.commit()
    side = task["side"]
    batch, seed = task["batch"], task["seed"]
    b = 0
    n = 0
    tmp = side + ".tmp"
    while True:
        a.extend(gen_batch(seed, b, batch))
        b += 1
        n += batch
        a.commit()
        with open(tmp, "w") as f:
            f.write(str(n))
        os.replace(tmp, side)
        if b == 1:
            emit("first_commit")
        if task.get("max_batches") and b >= task["max_batches"]:
            break
    a.close()
    return {"batches": b, "length": n}


def task_populate(task: dict) -> dict:
    """Create a store of n strings, commit, close (integrity trials' starting point)."""
    a = make_adapter(task["system"], task)
    a.import_()
    a.create(task["path"], task["cache"])
    n, batch, seed = task["n"], task["batch"], task["seed"]
    for b in range((n + batch - 1) // batch):
        a.extend(gen_batch(seed, b, min(batch, n - b * batch)))
    a.commit()
    length = a.length()
    a.close()
    return {"length": length}


TASKS = {"build": task_build, "populate": task_populate, "reads": task_reads, "first_read": task_first_read,
         "verify": task_verify, "writer": task_writer}


def child_main(argv):
    task = json.loads(argv[1])
    res = TASKS[task["task"]](task)
    emit("result", **res)


if __name__ == "__main__":
    child_main(sys.argv)


def add_common_args(ap) -> None:
    """The options every benchmark script takes: rows, output, scratch space."""
    ap.add_argument("--rivals", action="store_true", help="add sqlite and lmdb rows")
    ap.add_argument("--out", default="bench-out", help="output directory (./bench-out)")
    ap.add_argument("--tmp", default=None, help="where the temporary stores go (system tmp)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not pip-install missing optional dependencies")


def chosen_systems(ap, args, allowed, extra_pip=()) -> list[str]:
    """The systems of --systems (plus the rivals with --rivals), checked against
    allowed; pip-installs the optional ones they need (and extra_pip)."""
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if args.rivals:
        systems += [s for s in ("sqlite", "lmdb") if s not in systems]
    bad = [s for s in systems if s not in allowed]
    if bad:
        ap.error(f"systems {bad} are not among {','.join(allowed)}")
    ensure_pip(list(extra_pip) + [s for s in ("dbzero", "lmdb") if s in systems],
               allow_install=not args.no_install)
    return systems
