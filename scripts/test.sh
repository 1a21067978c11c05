#!/usr/bin/env bash
# Runs every test: the engine's GoogleTest suite (through ctest), once in a
# Release build and once under ASan+UBSan, the code's formatting, the Python package's pytest suite
# twice (embedded, then through a real mount: PAGEFS_TEST_MODE=mount), and the
# mount's real-mount tests. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "test: engine (GoogleTest, Release)"
cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure -j2
echo "test: code shape (clang-format)"
./scripts/check_style.sh --format
echo "test: engine (GoogleTest, ASan+UBSan)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_SANITIZE=ON \
  -DPAGEFS_BUILD_FS=OFF >/dev/null
cmake --build build/asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --test-dir build/asan --output-on-failure -j2
# ThreadSanitizer runs only the tests that start threads (buffer pool, batched
# loads, committed reads, the concurrency suites): the whole suite takes over
# 15 minutes under it (the crash tests replay thousands of workloads).
echo "test: engine (GoogleTest, ThreadSanitizer, the threaded tests)"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_TSAN=ON \
  -DPAGEFS_BUILD_FS=OFF >/dev/null
cmake --build build/tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir build/tsan \
  --output-on-failure -j2 -R 'BufferPool|BatchedLoad|VolumeCommitted|Concurrency'
# The Python thread tests against an extension built with -fsanitize=thread
# (its own build folder, imported first through PYTHONPATH, libtsan preloaded
# into the uninstrumented interpreter). A report fails the test's process.
echo "test: Python threads (pytest, extension under ThreadSanitizer)"
cmake -S . -B build/tsan-py -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEFS_TSAN=ON \
  -DPAGEFS_BUILD_FS=OFF -DPAGEFS_BUILD_TESTS=OFF -DPAGEFS_BUILD_PYTHON=ON \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" >/dev/null
cmake --build build/tsan-py
mkdir -p build/tsan-py/pkg/pagefs
ln -sf "$PWD"/pybind/pagefs/*.py "$PWD"/build/tsan-py/pybind/_core*.so build/tsan-py/pkg/pagefs/
# The interpreter itself, not a wrapper script (a pyenv shim is bash, which
# crashes with libtsan preloaded).
python_bin="$(python3 -c 'import sys; print(sys.executable)')"
LD_PRELOAD="$(g++ -print-file-name=libtsan.so)" PYTHONPATH="$PWD/build/tsan-py/pkg" \
  TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/scripts/tsan-python.supp" \
  "$python_bin" -m pytest -q -W error -p no:cacheprovider tests/python/test_stress_threads.py \
  tests/python/test_threads.py tests/python/test_thread_refs.py
echo "test: Python package (pytest, embedded stores)"
python3 -m pytest -q -W error tests/python
echo "test: Python package (pytest, every store through a pagefs mount)"
PAGEFS_TEST_MODE=mount PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" \
  python3 -m pytest -q -W error tests/python
echo "test: the mount (pytest, real FUSE mounts)"
PAGEFS_MOUNT_BIN="$PWD/build/cpp/fs/pagefs-mount" python3 -m pytest -q -W error tests/fs
