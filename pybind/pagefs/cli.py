"""The ``pagefs`` command: mount and unmount a pagefs store.

    pagefs mount ROOT MOUNTPOINT [-f] [-d] [-o cache_size=256M,ro,allow_other,...]
    pagefs umount MOUNTPOINT [-l]
    pagefs check ROOT [PREFIX] [--json] [--quiet]
    pagefs ls ROOT [PREFIX] [--nested] [--json]
    pagefs gc s3://BUCKET[/PATH] --prefix NAME [--dry-run] [--no-compact] [--min-age 1h]
              [--retention 1h] [--compact-below 0.5] [--json] [--quiet]
    pagefs ROOT MOUNTPOINT -o OPTIONS        (the form mount.fuse3 runs for an
                                              /etc/fstab line of type fuse.pagefs)

Mounting runs the ``pagefs-mount`` daemon (C++, libfuse3). It checks every
option, the root and the mountpoint itself, so this module only finds it and
hands over: whatever is wrong is reported by the daemon in one line, with a
non-zero exit status, before anything is created. By default the daemon goes
to the background and the command returns once the mount answers.

Unmounting asks ``fusermount3 -u`` and then waits for the daemon to commit
and exit, so the store's writer lock is free when the command returns. This
file has no dependency on the compiled extension (it runs before, and
without, ``pagefs._core``), except ``check`` and ``ls``, which import it
when run.

``check`` verifies prefixes read-only (pager/checker.h). Exit status: 0 when
every prefix checked is clean, 1 when a problem was found, 2 for a usage
error or a root or prefix that cannot be opened (missing, not a store, a
mount, unreadable).

``ls`` lists each prefix's named roots with their kind and size, from the
last commit, opened read-only (so beside a writer too); on a mountpoint it
reads through the mount. ``--nested`` walks
each collection and counts the collections and values inside it. Exit
status: 0, or 2 when a root or prefix cannot be opened.

``gc`` deletes the objects of a remote store that no kept commit references
and compacts its sparse segments (pager/remote_gc.h, pagefs.gc(), and from a
live writer Store.gc()). Exit
status: 0, 1 when it failed midway (the store stays readable), 2 for a usage
error, a store that cannot be reached, or a live writer when compacting.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROG = "pagefs"
DAEMON = "pagefs-mount"
# How long `pagefs umount` waits for the daemon to commit and exit.
UNMOUNT_WAIT_SECONDS = 120.0


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def find_daemon() -> str | None:
    """The pagefs-mount binary: $PAGEFS_MOUNT_BIN, the package's bin/, or PATH."""
    explicit = os.environ.get("PAGEFS_MOUNT_BIN")
    if explicit:
        return explicit
    packaged = Path(__file__).resolve().parent / "bin" / DAEMON
    if packaged.is_file() and os.access(packaged, os.X_OK):
        return str(packaged)
    return shutil.which(DAEMON)


def _mount(args: argparse.Namespace) -> int:
    daemon = find_daemon()
    if daemon is None:
        return _fail(f"the {DAEMON} daemon is not installed (set PAGEFS_MOUNT_BIN to its path)")
    argv = [daemon, args.root, args.mountpoint]
    if args.foreground:
        argv.append("-f")
    if args.debug:
        argv.append("-d")
    options = [o for group in (args.options or []) for o in group.split(",") if o]
    if options:
        argv += ["-o", ",".join(options)]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(daemon, argv)
    except OSError as e:
        return _fail(f"cannot run {daemon}: {e.strerror}")
    return 1  # not reached


def _daemon_pid(mountpoint: str) -> int | None:
    """The pid of the daemon serving mountpoint, from its .stats; None if unknown."""
    try:
        with open(os.path.join(mountpoint, ".stats"), "rb") as f:
            pid = int(json.loads(f.read())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if DAEMON.encode() not in f.read():
                return None
    except OSError:
        return None
    return pid


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        try:  # a zombie has exited; its parent will reap it
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().split(b") ", 1)[1][:1] == b"Z":
                    return True
        except (OSError, IndexError):
            return True
        time.sleep(0.02)
    return False


def _umount(args: argparse.Namespace) -> int:
    mountpoint = args.mountpoint
    fusermount = shutil.which("fusermount3") or shutil.which("fusermount")
    if fusermount is None:
        return _fail("fusermount3 is not installed (Debian: apt-get install fuse3)")
    pid = _daemon_pid(mountpoint)
    # The folder a link names is where the mount is (fusermount3 takes the
    # mountpoint itself, not a link to it).
    cmd = [fusermount, "-u"] + (["-z"] if args.lazy else []) + [os.path.realpath(mountpoint)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = proc.stderr.strip()
        if "busy" in reason.lower():
            return _fail(
                f"{mountpoint} is busy: a process has a file or folder open on it "
                f"(see: fuser -vm {mountpoint}); nothing was unmounted"
            )
        if "not found" in reason or "not mounted" in reason.lower() or "Invalid argument" in reason:
            return _fail(f"{mountpoint} is not mounted")
        return _fail(reason.splitlines()[-1] if reason else f"fusermount3 failed on {mountpoint}")
    if pid is not None and not args.lazy:
        if not _wait_for_exit(pid, UNMOUNT_WAIT_SECONDS):
            return _fail(f"unmounted {mountpoint}, but its daemon (pid {pid}) is still committing")
    return 0


def _stats(args: argparse.Namespace) -> int:
    try:
        with open(os.path.join(args.mountpoint, ".stats"), "rb") as f:
            stats = json.loads(f.read())
    except FileNotFoundError:
        return _fail(f"{args.mountpoint} is not a pagefs mount")
    except OSError as e:
        if e.errno == errno.ENOTCONN:
            return _fail(f"{args.mountpoint}: the daemon is gone; run: pagefs umount {args.mountpoint}")
        return _fail(f"{args.mountpoint}: {e.strerror}")
    json.dump(stats, sys.stdout, indent=2)
    print()
    return 0


# Exit statuses of `pagefs check`.
CHECK_CLEAN, CHECK_PROBLEMS, CHECK_ERROR = 0, 1, 2


class _ProgressBar:
    """One line on stderr, redrawn at most every 0.1 s: pages checked of total."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = 0.0
        self.width = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        line = f"{self.prefix}: {phase:<9} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} pages"
        self.width = max(self.width, len(line))
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _summary(report: dict) -> str:
    def count(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    what = ", ".join(
        [f"epoch {report['epoch']}", count(report["pages"], "page"), count(report["table_nodes"], "table node"),
         count(report["lists"], "list")]
        + [count(report[k], k[:-1]) for k in ("dicts", "sets") if report.get(k)]
        + [count(report["root_names"], "root name"), count(report["orphans"], "orphan")]
    )
    if report["ok"]:
        return f"{report['prefix']}: ok ({what})"
    n = len(report["problems"]) + report["problems_omitted"]
    return f"{report['prefix']}: {n} problem{'s' if n != 1 else ''} ({what})"


def _check(args: argparse.Namespace) -> int:
    try:
        import pagefs  # noqa: F401 -- registers the error classes
        from pagefs import _core
    except ImportError as e:
        return _fail(f"check needs the compiled pagefs package: {e}", CHECK_ERROR)
    bar_wanted = not args.quiet and not args.json_output and sys.stderr.isatty()
    reports = []
    try:
        if args.remote and not args.prefix:
            return _fail("check --remote needs the store's PREFIX", CHECK_ERROR)
        prefixes = [args.prefix] if args.prefix else _core._find_prefixes(args.root)
        if not prefixes:
            return _fail(f"{args.root} holds no pagefs prefix (folders with segment files)", CHECK_ERROR)
        for prefix in prefixes:
            bar = _ProgressBar(prefix) if bar_wanted else None
            try:
                reports.append(
                    _core._check_prefix(args.root, prefix, progress=bar, remote=args.remote or "")
                )
            finally:
                if bar is not None:
                    bar.clear()
    except (OSError, ValueError, pagefs.Error) as e:
        return _fail(f"check: {e}", CHECK_ERROR)
    ok = all(r["ok"] for r in reports)
    if args.json_output:
        json.dump({"root": args.root, "ok": ok, "prefixes": reports}, sys.stdout, indent=2)
        print()
    else:
        for r in reports:
            print(_summary(r))
            for p in r["problems"]:
                print(f"  {p['kind']}: {p['message']}")
            if r["problems_omitted"]:
                print(f"  ... and {r['problems_omitted']} more")
            for note in r["notes"]:
                print(f"  note: {note}")
            if r["cycle_collections"]:
                print(
                    f"  note: {r['cycle_collections']} collections ({r['cycle_pages']} pages) are kept "
                    "only by a reference cycle (never collected, not damage)"
                )
    return CHECK_CLEAN if ok else CHECK_PROBLEMS


# ---------------------------------------------------------------- pagefs ls

# What the size of a value of each kind counts, for the human listing.
_SIZE_UNITS = {"list": "values", "tuple": "values", "dict": "items", "set": "members",
               "str": "chars", "bytes": "bytes"}
# The read-only store's budget: ls reads little (headers, and what --nested walks).
LS_CACHE = 16 << 20


def _kind_and_size(value: object) -> tuple[str, int | None]:
    import pagefs

    for cls, kind in ((pagefs.List, "list"), (pagefs.Dict, "dict"), (pagefs.Set, "set"),
                      (pagefs.Tuple, "tuple")):
        if isinstance(value, cls):
            return kind, len(value)  # type: ignore[arg-type]
    if isinstance(value, (str, bytes)):
        return type(value).__name__, len(value)
    return ("None" if value is None else type(value).__name__), None


def _nested(value: object) -> dict:
    """What value holds, all the way down: collections by kind (each stored
    collection counted once, however often it is referenced) and values."""
    import pagefs

    counts = {"lists": 0, "dicts": 0, "sets": 0, "tuples": 0, "values": 0}
    seen: set = set()
    stack = [value]
    first = True
    while stack:
        v = stack.pop()
        if isinstance(v, (pagefs.List, pagefs.Dict, pagefs.Set)):
            key = (type(v).__name__, v._key())
            if key in seen:
                continue
            seen.add(key)
            if not first:
                counts[type(v).__name__.lower() + "s"] += 1
            if isinstance(v, pagefs.Dict):
                children = v.values()
            elif isinstance(v, pagefs.Set):
                children = v  # members are hashable: never collections, maybe tuples
            else:
                children = v
            for child in children:
                counts["values"] += 1
                if isinstance(child, (pagefs.List, pagefs.Dict, pagefs.Set, tuple)):
                    stack.append(child)
        elif isinstance(v, tuple):
            if not first:
                counts["tuples"] += 1
            for child in v:
                counts["values"] += 1
                if isinstance(child, (pagefs.List, pagefs.Dict, pagefs.Set, tuple)):
                    stack.append(child)
        first = False
    return counts


def _scalar_text(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _list_prefix(root: str, prefix: str, nested: bool) -> dict:
    import pagefs

    with pagefs.Store(root, prefix, cache_size=LS_CACHE, read_only=True) as store:
        names = []
        r = store.root()
        for name in sorted(r):
            value = r[name]
            kind, size = _kind_and_size(value)
            entry: dict = {"name": name, "kind": kind, "size": size}
            if size is None:
                entry["value"] = value if isinstance(value, (bool, int, float)) and not (
                    isinstance(value, float) and value != value) else None
                entry["text"] = _scalar_text(value)
            if nested and kind in ("list", "dict", "set", "tuple"):
                entry["nested"] = _nested(value)
            names.append(entry)
            del value
        return {"prefix": prefix, "epoch": store.stats()["epoch"], "names": names}


def _describe(entry: dict) -> str:
    kind, size = entry["kind"], entry["size"]
    if size is None:
        what = entry["text"]
    else:
        unit = _SIZE_UNITS[kind]
        what = f"{size} {unit[:-1] if size == 1 else unit}"
    nested = entry.get("nested")
    if nested:
        parts = [f"{nested[k]} {k[:-1] if nested[k] == 1 else k}"
                 for k in ("lists", "dicts", "sets", "tuples") if nested[k]]
        inside = ", ".join(parts) if parts else "no collections"
        what += f"  (inside: {inside}; {nested['values']} values in all)"
    return what


def _mounted_prefixes(root: str) -> list[str] | None:
    """The prefixes a pagefs mount at root serves (folders with a data file),
    or None when root is not a pagefs mount. ls reads a mount through its
    files, as any Store on a mountpoint does."""
    try:
        with open(os.path.join(root, ".stats"), "rb") as f:
            if json.loads(f.read()).get("fs") != "pagefs":
                return None
    except (OSError, ValueError, AttributeError):
        return None
    return sorted(name for name in os.listdir(root)
                  if not name.startswith(".") and os.path.isfile(os.path.join(root, name, "data")))


def _ls(args: argparse.Namespace) -> int:
    try:
        import pagefs
        from pagefs import _core
    except ImportError as e:
        return _fail(f"ls needs the compiled pagefs package: {e}", CHECK_ERROR)
    listings = []
    try:
        if args.prefix:
            prefixes = [args.prefix]
        else:
            if not os.path.isdir(args.root):
                return _fail(f"ls: {args.root}: no such folder", CHECK_ERROR)
            prefixes = _mounted_prefixes(args.root)
            if prefixes is None:
                prefixes = _core._find_prefixes(args.root)
        for prefix in prefixes:
            listings.append(_list_prefix(args.root, prefix, args.nested))
    except (OSError, ValueError, pagefs.Error) as e:
        return _fail(f"ls: {e}", CHECK_ERROR)
    if args.json_output:
        json.dump({"root": args.root, "prefixes": listings}, sys.stdout, indent=2)
        print()
        return 0
    if not listings:
        print(f"{args.root}: no prefixes")
    for listing in listings:
        n = len(listing["names"])
        print(f"{listing['prefix']}: {n} name{'' if n == 1 else 's'} (epoch {listing['epoch']})")
        width = max((len(e["name"]) for e in listing["names"]), default=0)
        for e in listing["names"]:
            print(f"  {e['name']:<{width}}  {e['kind']:<6} {_describe(e)}")
    return 0


# ---------------------------------------------------------------- pagefs gc


class _GcBar:
    """One line on stderr, redrawn at most every 0.1 s: the phase and its count."""

    _NOUNS = {"list": "objects listed", "read": "commits read", "compact": "segments rewritten",
              "delete": "objects deleted"}

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.last = 0.0
        self.width = 0
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        noun = self._NOUNS.get(phase, phase)
        if not self.tty:  # plain lines: one as each phase ends
            if done == total:
                print(f"{PROG} gc: {phase}: {done} {noun}", file=sys.stderr, flush=True)
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total and phase == self.phase:
            return
        self.last, self.phase = now, phase
        share = done / total if total else 1.0
        filled = int(share * 30)
        line = f"gc: {phase:<8} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {noun}"
        self.width = max(self.width, len(line))
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()

    def clear(self) -> None:
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _bytes_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _gc_summary(r: dict) -> list[str]:
    would = "would be " if r["dry_run"] else ""
    lines = [f"{r['store']}: head epoch {r['head_epoch']} ({r['head_commit'] or 'no head'})"]
    lines.append(
        f"  reclaimed{' (dry run)' if r['dry_run'] else ''}: {r['objects_deleted']} objects, "
        f"{_bytes_text(r['bytes_deleted'])} ({r['commits_deleted']} commits, "
        f"{r['segments_deleted']} segments {would}deleted"
        + ("" if r["dry_run"] else f" in {r['delete_requests']} requests")
        + ")"
    )
    lines.append(
        f"  compacted: {r['segments_compacted']} segments ({_bytes_text(r['bytes_compacted'])}) "
        f"{would}rewritten into {r['segments_written']} ({_bytes_text(r['bytes_written'])})"
        + (f", commit {r['compaction_commit']}" if r["compaction_commit"] else "")
    )
    lines.append(
        f"  kept: {r['commits_kept']} commits, {r['segments_kept']} segments; "
        f"{r['objects_too_young']} unreferenced objects ({_bytes_text(r['bytes_too_young'])}) "
        "younger than --min-age"
    )
    if r["compaction_commit"] or r["segments_compacted"]:
        lines.append("  note: the segments compaction replaced are reclaimed by a gc after --retention")
    for note in r["notes"]:
        lines.append(f"  note: {note}")
    return lines


def _gc(args: argparse.Namespace) -> int:
    try:
        import pagefs
    except ImportError as e:
        return _fail(f"gc needs the compiled pagefs package: {e}", CHECK_ERROR)
    from pagefs import _gc as gc_module

    try:
        min_age = gc_module.parse_duration(args.min_age, "--min-age")
        retention = gc_module.parse_duration(args.retention, "--retention")
    except ValueError as e:
        return _fail(f"gc: {e}", CHECK_ERROR)
    bar = None if args.quiet or args.json_output else _GcBar(sys.stderr.isatty())
    changing = []  # the phases that change the bucket, once reached

    def progress(phase: str, done: int, total: int) -> None:
        if phase in ("compact", "delete") and total and not changing:
            changing.append(phase)
        if bar is not None:
            bar(phase, done, total)

    try:
        report = pagefs.gc(args.remote, args.prefix, dry_run=args.dry_run, compact=args.compact,
                           min_age=min_age, retention=retention,
                           compact_below=args.compact_below, progress=progress)
    except (ValueError, pagefs.LockedError, FileNotFoundError, PermissionError) as e:
        return _fail(f"gc: {e}", CHECK_ERROR)  # nothing was done
    except (OSError, pagefs.Error) as e:
        if not changing:  # it failed before it compacted or deleted anything: an open error
            return _fail(f"gc: {e} (nothing was changed)", CHECK_ERROR)
        return _fail(f"gc: {e} (the store stays readable at its last commit; run gc again)", 1)
    finally:
        if bar is not None:
            bar.clear()
    if args.json_output:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print("\n".join(_gc_summary(report)))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + error
        self.exit(2, f"{self.prog}: {message} (see {PROG} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="pagefs store tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    m = sub.add_parser("mount", help="mount a store root (every prefix in it)")
    m.add_argument("root", help="the store's root folder")
    m.add_argument("mountpoint", help="an existing, empty folder")
    m.add_argument("-f", "--foreground", action="store_true", help="stay in the foreground")
    m.add_argument("-d", "--debug", action="store_true", help="print every FUSE request (implies -f)")
    m.add_argument(
        "-o",
        dest="options",
        action="append",
        metavar="OPTIONS",
        help="cache_size=SIZE (64M, 1.5G, ...), ro, allow_other, threads=N, log=FILE, ...",
    )
    m.set_defaults(run=_mount)

    u = sub.add_parser("umount", aliases=["unmount"], help="unmount, after the daemon commits")
    u.add_argument("mountpoint")
    u.add_argument("-l", "--lazy", action="store_true", help="detach now, finish when no longer busy")
    u.set_defaults(run=_umount)

    s = sub.add_parser("stats", help="print a mount's live cache figures")
    s.add_argument("mountpoint")
    s.set_defaults(run=_stats)

    c = sub.add_parser(
        "check",
        help="verify a store read-only: checksums, structure, refcounts, orphans, leaks",
        description="Verifies every prefix of ROOT (or only PREFIX) read-only; safe beside a writer. "
        "Exit status: 0 clean, 1 problems found, 2 usage or open error.",
    )
    c.add_argument("root", help="the store's root folder (not a mountpoint)")
    c.add_argument("prefix", nargs="?", help="one prefix (default: every prefix of ROOT)")
    c.add_argument("--remote", metavar="URL",
                   help="check the remote store s3://BUCKET[/PATH] (as given to init(remote=...)); "
                        "ROOT holds only its local cache then, and PREFIX is required")
    c.add_argument("--json", dest="json_output", action="store_true", help="print the reports as JSON")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(run=_check)

    ls = sub.add_parser(
        "ls",
        help="list a store's prefixes and named roots, with each value's kind and size",
        description="Lists the named roots of every prefix of ROOT (or only PREFIX) at its last "
        "commit, read-only; safe beside a writer. Exit status: 0, or 2 for a root or prefix that "
        "cannot be opened.",
    )
    ls.add_argument("root", help="the store's root folder")
    ls.add_argument("prefix", nargs="?", help="one prefix (default: every prefix of ROOT)")
    ls.add_argument("-n", "--nested", action="store_true",
                    help="count the collections and values inside each collection (reads them all)")
    ls.add_argument("--json", dest="json_output", action="store_true", help="print the listing as JSON")
    ls.set_defaults(run=_ls)

    g = sub.add_parser(
        "gc",
        help="delete a remote store's unreferenced objects and compact its sparse segments",
        description="Deletes the objects of the remote store REMOTE --prefix NAME that neither the "
        "head nor a kept commit references (commits that were the head within --retention are "
        "kept; nothing younger than --min-age is deleted), and rewrites segments whose live share "
        "is below --compact-below into new ones under a new commit. Compaction takes the writer's "
        "lease (it fails when a writer is live: --no-compact runs beside one). Exit status: 0, 1 "
        "when it failed midway (the store stays readable), 2 for a usage or open error.",
    )
    g.add_argument("remote", help="s3://BUCKET[/PATH], as given to init(remote=...)")
    g.add_argument("--prefix", required=True, help="the store's prefix")
    g.add_argument("-n", "--dry-run", action="store_true", help="report what would be done; change nothing")
    g.add_argument("--no-compact", dest="compact", action="store_false",
                   help="only the garbage step (runs beside a live writer)")
    g.add_argument("--min-age", default="1h", metavar="AGE",
                   help="delete nothing younger (seconds, or 30s, 15m, 1h, 2d; default 1h)")
    g.add_argument("--retention", default="1h", metavar="AGE",
                   help="keep commits that were the head this recently (default 1h)")
    g.add_argument("--compact-below", type=float, default=0.5, metavar="SHARE",
                   help="rewrite segments whose live share is below this (0..1; default 0.5)")
    g.add_argument("--json", dest="json_output", action="store_true", help="print the report as JSON")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress")
    g.set_defaults(run=_gc)
    return parser


_COMMANDS = {"mount", "umount", "unmount", "stats", "check", "ls", "gc", "-h", "--help"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in _COMMANDS and not argv[0].startswith("-"):
        # mount.fuse3 form: pagefs ROOT MOUNTPOINT [-o OPTIONS]
        argv = ["mount"] + argv
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
