#!/usr/bin/env bash
# The seed scenario: 5 million strings in a persistent list under a 128 MiB
# budget, reopened from a second process. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
python3 scripts/seed_demo.py "$@"
