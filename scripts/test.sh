#!/usr/bin/env bash
# Runs every test: the engine's GoogleTest suite (through ctest), once in a
# Release build and once under ASan+UBSan, the Python package's pytest suite
# twice (embedded, then through a real mount: PAGEFS_TEST_MODE=mount), and the
# mount's real-mount tests. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "test: engine (GoogleTest, Release)"
cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure -j2
echo "test: engine (GoogleTest, ASan+UBSan)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_SANITIZE=ON \
  -DPAGEFS_BUILD_FS=OFF >/dev/null
cmake --build build/asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --test-dir build/asan --output-on-failure -j2
echo "test: Python package (pytest, embedded stores)"
python3 -m pytest -q -W error tests/python
echo "test: Python package (pytest, every store through a pagefs mount)"
PAGEFS_TEST_MODE=mount PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" \
  python3 -m pytest -q -W error tests/python
echo "test: the mount (pytest, real FUSE mounts)"
PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" python3 -m pytest -q -W error tests/fs
