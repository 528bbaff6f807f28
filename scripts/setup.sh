#!/usr/bin/env bash
# Installs the Debian packages oicsr needs, if any is missing: OpenBLAS, ncursesw and zlib
# (C libraries), Fashion-MNIST (the default data set) and tmux (the end-to-end test).
set -euo pipefail
packages=(libopenblas-dev libncurses-dev zlib1g-dev dataset-fashion-mnist tmux)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: the Swift toolchain (6.x) is not on PATH" >&2; exit 1; }
