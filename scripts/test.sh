#!/usr/bin/env bash
# Runs every test: the engine's GoogleTest suite (through ctest) in a Release
# build, under ASan+UBSan and (its threaded tests) under TSan; the code's shape
# (clang-format, clang-tidy, -Wthread-safety); the Python package's pytest
# suite twice (embedded, then through a real mount: PAGEFS_TEST_MODE=mount) and
# its thread tests under TSan; the mount's real-mount tests. Installs what is
# missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage says how long it took, so the run's time can be kept in bounds.
stage_start=$SECONDS
stage() {
  echo "test: ... $((SECONDS - stage_start)) s (total $SECONDS s)"
  stage_start=$SECONDS
  echo "test: $1"
}
# The package is built in build/cpp together with the daemon and the engine
# tests (one Release build of pager/ for all three).
./scripts/setup.sh --config-settings=build-dir=build/cpp \
  --config-settings=cmake.define.PAGEFS_BUILD_TESTS=ON
stage "engine (GoogleTest, Release)"
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure -j2
stage "code shape (clang-format, clang-tidy, -Wthread-safety)"
./scripts/check_style.sh
stage "engine (GoogleTest, ASan+UBSan)"
# The sanitizer trees are unity builds (eight sources per compiler run): they
# build in about half the time, and build/cpp and clang-tidy still compile
# every file on its own, so a missing include is still found there.
unity=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_SANITIZE=ON \
  -DPAGEFS_BUILD_FS=OFF "${unity[@]}" >/dev/null
cmake --build build/asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --test-dir build/asan --output-on-failure -j2
# ThreadSanitizer runs only the tests that start threads (buffer pool, batched
# loads, committed reads, the concurrency suites): the whole suite takes over
# 15 minutes under it (the crash tests replay thousands of workloads). The
# tree builds only the test files that hold them (tests/cpp/CMakeLists.txt).
stage "engine (GoogleTest, ThreadSanitizer, the threaded tests)"
# One ThreadSanitizer tree builds both the threaded engine tests and the
# extension the Python thread tests import, so pager/ is compiled once.
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_TSAN=ON \
  -DPAGEFS_BUILD_FS=OFF -DPAGEFS_BUILD_PYTHON=ON "${unity[@]}" \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" >/dev/null
cmake --build build/tsan --target pager_tests _core
threaded='BufferPool|BatchedLoad|VolumeCommitted|Concurrency|SigbusGuard|MountMapping'
# A threaded test in a file that tree does not build would go untested.
in_tree() { ctest --test-dir "$1" -N -R "$threaded" | grep -c 'Test *#'; }
if [ "$(in_tree build/cpp)" != "$(in_tree build/tsan)" ]; then
  echo "test: threaded tests missing from build/tsan (tests/cpp/CMakeLists.txt lists their files)" >&2
  exit 1
fi
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir build/tsan \
  --output-on-failure -j2 -R "$threaded"
# The Python thread tests against that extension (imported first through
# PYTHONPATH, libtsan preloaded into the uninstrumented interpreter). A report
# fails the test's process.
stage "Python threads (pytest, extension under ThreadSanitizer)"
mkdir -p build/tsan/pkg/pagefs
ln -sf "$PWD"/pybind/pagefs/*.py "$PWD"/build/tsan/pybind/_core*.so build/tsan/pkg/pagefs/
# The interpreter itself, not a wrapper script (a pyenv shim is bash, which
# crashes with libtsan preloaded).
python_bin="$(python3 -c 'import sys; print(sys.executable)')"
LD_PRELOAD="$(g++ -print-file-name=libtsan.so)" PYTHONPATH="$PWD/build/tsan/pkg" \
  TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/scripts/tsan-python.supp" \
  "$python_bin" -m pytest -q -W error -p no:cacheprovider tests/python/test_stress_threads.py \
  tests/python/test_threads.py tests/python/test_thread_refs.py
stage "Python package (pytest, embedded stores)"
python3 -m pytest -q -W error --durations=8 tests/python
stage "Python package (pytest, every store through a pagefs mount)"
PAGEFS_TEST_MODE=mount PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" \
  python3 -m pytest -q -W error --durations=8 tests/python
stage "the mount (pytest, real FUSE mounts)"
PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" python3 -m pytest -q -W error --durations=8 tests/fs
stage "all passed"
