#!/bin/sh
# Runs the PyTorch bridge's tests (python/tests) with Debian's python3, which has torch and
# torchvision (python3-torch, python3-torchvision). Set OICSR_BIN to a built oicsr binary to
# include the checks against it; they are skipped otherwise.
set -eu
cd "$(dirname "$0")/.."
PYTHONPATH=python exec /usr/bin/python3 -m unittest discover -s python/tests "$@"
