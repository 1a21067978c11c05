#!/usr/bin/env python3
"""Fails when two files of tests/cpp define the same file-local name.

The test programs compile in unity batches (tests/cpp/CMakeLists.txt): eight
files in one translation unit, so two anonymous namespaces of one batch are
one. Two files that both define `Stamp` or `Pattern` at the top of their
anonymous namespace build today only while they sit in different batches; a
file added elsewhere, or another tree's list of files (the ThreadSanitizer
tree builds only some), moves them together and the build breaks far from
the change. This finds such names in any two files, whatever the batches.

It reads the shape clang-format gives the code: a definition at the top of
an anonymous namespace starts in column 0 (class, struct, enum, union, using,
a constant, a function). Prints each name with its files and exits 1; exits
0 when every name is one file's.

    check_test_names.py ROOT           check ROOT/tests/cpp
    check_test_names.py --self-test    show that a shared name is found
"""
from __future__ import annotations

import collections
import re
import sys
import tempfile
from pathlib import Path

DEFINITIONS = [
    re.compile(r"^(?:template <.*> )?(?:class|struct|union|enum(?: class)?) (\w+)\b(?!;)"),
    re.compile(r"^using (\w+) ="),
    re.compile(r"^(?:static )?(?:inline )?(?:constexpr|const)\b[^=(]*?\b(\w+)(?:\[[^\]]*\])? ="),
    re.compile(r"^(?:template <.*> )?(?:static )?(?:inline )?(?:[\w:]+(?:<[^()]*>)?[\s*&]+)+(\w+)\("),
]
NOT_NAMES = {"main", "operator"}  # and macros (TEST_F, ...): all capitals


def local_names(text: str) -> set[str]:
    """The names defined at the top level of text's anonymous namespaces."""
    names: set[str] = set()
    depth = 0
    anonymous: list[int] = []  # the depth each open anonymous namespace starts at
    for line in text.splitlines():
        code = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        code = re.sub(r"//.*", "", code)
        if re.match(r"^namespace\s*\{", code):
            anonymous.append(depth)
        if anonymous and depth == anonymous[-1] + 1 and code[:1] not in ("", " ", "\t", "}"):
            for pattern in DEFINITIONS:
                m = pattern.match(code)
                if m:
                    name = m.group(1)
                    if name not in NOT_NAMES and not name.isupper():
                        names.add(name)
                    break
        depth += code.count("{") - code.count("}")
        while anonymous and depth <= anonymous[-1]:
            anonymous.pop()
    return names


def shared_names(tests: Path) -> dict[str, list[str]]:
    files = collections.defaultdict(list)
    for path in sorted(tests.rglob("*.cc")):
        for name in local_names(path.read_text()):
            files[name].append(str(path.relative_to(tests)))
    return {name: where for name, where in sorted(files.items()) if len(where) > 1}


def self_test() -> int:
    one = "namespace pagefs {\nnamespace {\n\nvoid Stamp(int x) {\n  int y = x;\n}\n\n}  // namespace\n}\n"
    other = one.replace("void Stamp(int x)", "struct Stamp {};\nconstexpr int kOnly = 1;\nbool Other(int x)")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a_test.cc").write_text(one)
        (Path(d) / "b_test.cc").write_text(other)
        found = shared_names(Path(d))
    if found != {"Stamp": ["a_test.cc", "b_test.cc"]}:
        print(f"check_test_names: the self-test found {found}, not Stamp in both files")
        return 1
    print("check_test_names: the self-test finds a shared name")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    shared = shared_names(root / "tests" / "cpp")
    for name, where in shared.items():
        print(f"{name}: file-local in {', '.join(where)} (one unity batch would hold both: rename "
              f"one, or share it in tests/cpp/pager/testing/)")
    return 1 if shared else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
