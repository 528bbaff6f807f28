#!/usr/bin/env bash
# Installs the Debian packages oicsr needs, if any is missing: OpenBLAS, ncursesw and zlib
# (C libraries), Fashion-MNIST (the default data set) and tmux (the end-to-end test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-missing.sh libopenblas-dev libncurses-dev zlib1g-dev dataset-fashion-mnist tmux
command -v swift >/dev/null || { echo "setup: the Swift toolchain (6.x) is not on PATH" >&2; exit 1; }
