#!/usr/bin/env python3
"""Fails when a file includes a layer above its own (docs/ARCHITECTURE.md).

pager/ is layered bottom up; a file in one folder may include its own folder
and those below it, and the files at the top of pager/ (the composition root)
may include any of them. pager/ includes nothing of fs/ or pybind/, nor FUSE
or Python headers; fs/ includes nothing of pybind/. Prints every offending
include and exits 1; exits 0 when the house is in order.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

# Bottom up: each may include only itself and the folders before it.
PAGER_LAYERS = ["util", "tier", "cache", "values", "volume", "env", "space", "collections"]
TOP = len(PAGER_LAYERS)  # files directly in pager/
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
FOREIGN = ("fuse", "pybind11/", "Python.h")


def pager_rank(rel: Path) -> int | None:
    """The layer of a path under pager/ (TOP for pager/*), None if not in pager/."""
    parts = rel.parts
    if not parts or parts[0] != "pager":
        return None
    if len(parts) == 2:
        return TOP
    return PAGER_LAYERS.index(parts[1]) if parts[1] in PAGER_LAYERS else -1


def problems(repo: Path) -> list[str]:
    out = []
    for top in ("pager", "fs"):
        for path in sorted((repo / top).rglob("*")):
            if path.suffix not in (".h", ".cc"):
                continue
            rel = path.relative_to(repo)
            rank = pager_rank(rel)
            if rank == -1:
                out.append(f"{rel}: in no layer folder of pager/ ({', '.join(PAGER_LAYERS)})")
                continue
            for inc in INCLUDE.findall(path.read_text()):
                where = f"{rel}: includes {inc}"
                if top == "fs":
                    if inc.startswith("pybind/"):
                        out.append(f"{where}: fs/ must not depend on pybind/")
                    continue
                if inc.startswith(("fs/", "pybind/")) or inc.startswith(FOREIGN):
                    out.append(f"{where}: the engine must not depend on the mount or Python")
                    continue
                target = pager_rank(Path(inc))
                if target is None:
                    continue  # a system or library header
                if target == -1:
                    out.append(f"{where}: in no layer folder of pager/")
                elif target > rank:
                    below = PAGER_LAYERS[rank] if rank < TOP else "the top"
                    above = PAGER_LAYERS[target] if target < TOP else "the top of pager/"
                    out.append(f"{where}: {below} must not include {above}, a layer above it")
    return out


def main() -> int:
    repo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    found = problems(repo)
    for p in found:
        print(p)
    if found:
        print(f"{len(found)} include(s) point up a layer", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
