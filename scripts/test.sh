#!/usr/bin/env bash
# Runs every test: the engine's GoogleTest suite (through ctest) and the
# Python package's pytest suite. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "test: engine (GoogleTest)"
cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure -j2
echo "test: Python package (pytest)"
python3 -m pytest -q -W error tests/python
