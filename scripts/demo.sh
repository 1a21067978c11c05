#!/usr/bin/env bash
# The seed scenario, made visible: a Python list and a pagefs list of 5
# million strings side by side, each in its own process, the pagefs one past
# its 32 MiB budget so that its memory plateaus; both curves' figures printed
# and charted (bench-out/demo-rss.png); the list, then a dict and a set,
# reopened in new processes. Installs what is missing first (matplotlib for
# the chart included). scripts/demo.sh --n 500000 runs a smaller one.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
python3 scripts/seed_demo.py "$@"
