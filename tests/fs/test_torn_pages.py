"""Readers of page files (and of data) never see a torn page while a writer
rewrites whole pages and commits: each page read is one version of it."""

import os
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
    stop = threading.Event()
    torn = []
    reads = [0]

    def writer():
        version = 1
        while not stop.is_set():
            for i in range(1, PAGES + 1):
                # One write call per page, in two halves' worth of bytes at once.
                os.pwrite(fd, bytes([version % 256]) * PAGE, i * PAGE)
            os.fsync(fd)
            version += 1

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

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=page_reader, args=(s,)) for s in range(3)]
    threads += [threading.Thread(target=data_reader)]
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    os.close(fd)
    assert reads[0] > 100
    assert not torn, torn[:5]
    assert mounted.info()["epoch"] > 2
