#!/usr/bin/env bash
# Installs the dependencies, then builds and installs the pagefs package from
# this checkout (incrementally: the build folder is kept under build/).
# Arguments go to pip: scripts/test.sh builds the package in its own tree, with
# the tests, so that nothing is compiled twice.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
echo "setup: building and installing pagefs"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --no-build-isolation "$@" .
python3 -c "import pagefs" || { echo "setup: pagefs did not install" >&2; exit 1; }
