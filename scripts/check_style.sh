#!/usr/bin/env bash
# Checks that the C++ keeps the project's shape: clang-format (.clang-format)
# on every source, and clang-tidy (.clang-tidy) with Clang's thread-safety
# analysis (-Wthread-safety: GUARDED_BY/REQUIRES in pager/) on every
# translation unit of pager/, fs/ and pybind/. Fails on the first finding.
# `scripts/check_style.sh --fix` rewrites the formatting instead of checking it;
# `--format` checks the formatting only.
set -euo pipefail
cd "$(dirname "$0")/.."
format=clang-format-14
tidy=clang-tidy-14
for tool in "$format" "$tidy"; do
  command -v "$tool" >/dev/null || { echo "check_style: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
mapfile -t sources < <(git ls-files -- 'pager/*.cc' 'pager/*.h' 'fs/*.cc' 'fs/*.h' 'pybind/*.cc' \
  'pybind/*.h' 'tests/cpp/*.cc' 'tests/cpp/*.h')
if [ "${1:-}" = "--fix" ]; then
  "$format" -i "${sources[@]}"
  exit 0
fi
echo "check_style: clang-format (${#sources[@]} files)"
"$format" --dry-run -Werror "${sources[@]}"
# --format: the formatting only, a quick check before a commit
# (scripts/test.sh runs the whole check; docs/ARCHITECTURE.md, "Keeping the shape").
if [ "${1:-}" = "--format" ]; then
  echo "check_style: formatting clean"
  exit 0
fi

echo "check_style: clang-tidy and -Wthread-safety"
build=build/tidy
cmake -S . -B "$build" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Release \
  -DPAGEFS_BUILD_PYTHON=ON -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" >/dev/null
mapfile -t units < <(git ls-files -- 'pager/*.cc' 'fs/*.cc' 'pybind/*.cc')
log="$(mktemp)"
status=0
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 "$tidy" -p "$build" --quiet \
  --extra-arg=-Wthread-safety --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1 || status=$?
grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter' "$log" || true
rm -f "$log"
if [ "$status" -ne 0 ]; then
  echo "check_style: clang-tidy found the problems above" >&2
  exit 1
fi
echo "check_style: clean"
