"""PREFIX/committed: the pages of the last commit, for read-only clients."""

from __future__ import annotations

import errno
import os

def test_the_committed_file_shows_the_last_commit_not_written_back_pages(mounted):
    page = mounted.info()["page_size"]
    data = mounted.data()
    with open(data, "r+b") as f:
        f.seek(page)
        f.write(b"A" * page)
        f.flush()
        os.fsync(f.fileno())
        committed = mounted.mnt / "data" / "committed"
        with open(committed, "rb") as c:
            assert c.read(page)[8:16] == mounted.info()["epoch"].to_bytes(8, "little")
            assert c.read(page) == b"A" * page
        f.seek(page)
        f.write(b"B" * page)  # written, not committed
        f.flush()
        with open(committed, "rb") as c:
            c.seek(page)
            assert c.read(page) == b"A" * page
        os.fsync(f.fileno())
        with open(committed, "rb") as c:
            c.seek(page)
            assert c.read(page) == b"B" * page
            f.seek(2 * page)
            f.write(b"C" * page)
            f.flush()
            os.fsync(f.fileno())  # a newer commit: this open file's is gone
            c.seek(page)
            try:
                c.read(page)
                raise AssertionError("no ESTALE")
            except OSError as e:
                assert e.errno == errno.ESTALE
