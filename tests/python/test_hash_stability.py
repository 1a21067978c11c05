"""The stored hash of keys does not depend on the process: a dict and a set
written by a process with one PYTHONHASHSEED are found, key by key, by
processes with other seeds (Python's own str hash differs between them)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

KEYS = "['alpha', 'βeta', 'x' * 3000, b'bytes', 7, 2**80, -1.5, None, True, ('t', 1, ('n', b'b')), 0.0]"


def run(code: str, seed: str, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_keys_are_found_by_processes_with_other_hash_seeds(tmp_path):
    run(
        f"""
        import sys, pagefs
        keys = {KEYS}
        with pagefs.Store(sys.argv[1], "h") as s:
            s.root()["d"] = s.dict((k, i) for i, k in enumerate(keys))
            s.root()["s"] = s.set(keys)
            s.root()["many"] = s.set(f"member-{{i}}" for i in range(3000))
        print(hash("alpha"))
        """,
        "1",
        str(tmp_path),
    )
    hashes = set()
    for seed in ("2", "12345"):
        out = run(
            f"""
            import sys, pagefs
            keys = {KEYS}
            with pagefs.Store(sys.argv[1], "h", read_only=True) as s:
                d, st, many = s.root()["d"], s.root()["s"], s.root()["many"]
                assert [d[k] for k in keys] == list(range(len(keys))), "dict lookups"
                assert all(k in st for k in keys) and 1 in st and 1.0 in d and -0.0 in d
                assert all(f"member-{{i}}" in many for i in range(3000)) and "member-3000" not in many
                assert d._verify()["live"] == len(keys)
            print(hash("alpha"))
            """,
            seed,
            str(tmp_path),
        )
        hashes.add(out.strip())
    assert len(hashes) == 2  # Python's own str hashes really differed
