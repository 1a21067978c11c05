"""Readers of page files (and of data) never see a torn page while a writer
rewrites whole pages and commits: each page read is one version of it.

The writer is a process of its own: as a thread beside four busy reader
threads it waits for the GIL after each write, and made 1-7 commits in the
test's three seconds instead of over a thousand."""

import os
import subprocess
import sys
import textwrap
import threading
import time

PAGE = 4096
PAGES = 32
SECONDS = 3.0


def test_readers_never_see_a_torn_page_while_a_writer_commits(mounted):
    fd = os.open(mounted.data(), os.O_RDWR)
    for i in range(1, PAGES + 1):
        os.pwrite(fd, bytes([0]) * PAGE, i * PAGE)
    os.fsync(fd)
    os.close(fd)
    stop = threading.Event()
    torn = []
    reads = [0]

    # One write call per page, then a commit; prints how many commits it made.
    writer = textwrap.dedent(f"""
        import os, sys, time
        fd = os.open(sys.argv[1], os.O_RDWR)
        version, end = 1, time.monotonic() + {SECONDS}
        while time.monotonic() < end:
            for i in range(1, {PAGES} + 1):
                os.pwrite(fd, bytes([version % 256]) * {PAGE}, i * {PAGE})
            os.fsync(fd)
            version += 1
        print(version - 1)
    """)

    def page_reader(seed):
        pages = mounted.mnt / "data" / "pages"
        while not stop.is_set():
            for i in range(1 + seed % 3, PAGES + 1, 3):
                with open(pages / f"{i:016x}", "rb", buffering=0) as f:
                    page = f.read()
                if len(set(page)) != 1 or len(page) != PAGE:
                    torn.append(("pages", i, sorted(set(page))[:4]))
                reads[0] += 1

    def data_reader():
        rfd = os.open(mounted.data(), os.O_RDONLY)
        try:
            while not stop.is_set():
                block = os.pread(rfd, PAGES * PAGE, PAGE)
                for i in range(PAGES):
                    page = block[i * PAGE:(i + 1) * PAGE]
                    if len(set(page)) != 1:
                        torn.append(("data", i + 1, sorted(set(page))[:4]))
                reads[0] += PAGES
        finally:
            os.close(rfd)

    threads = [threading.Thread(target=page_reader, args=(s,)) for s in range(3)]
    threads += [threading.Thread(target=data_reader)]
    for t in threads:
        t.start()
    try:
        done = subprocess.run([sys.executable, "-c", writer, str(mounted.data())],
                              capture_output=True, text=True, timeout=60 + SECONDS)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert done.returncode == 0, done.stderr
    commits = int(done.stdout)
    assert reads[0] > 100
    assert not torn, torn[:5]
    assert commits > 100
    assert mounted.info()["epoch"] >= commits
