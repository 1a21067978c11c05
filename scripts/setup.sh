#!/usr/bin/env bash
# Installs the dependencies, then builds and installs the pagefs package from
# this checkout (incrementally: the build folder is kept under build/).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
echo "setup: building and installing pagefs"
python3 -m pip install -q --no-build-isolation . 2>&1 | grep -v -e "Running pip as the .root. user" || true
python3 -c "import pagefs" || { echo "setup: pagefs did not install" >&2; exit 1; }
