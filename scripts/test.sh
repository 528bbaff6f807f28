#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit tests, golden screens, the end-to-end
# run of the release binary in tmux, and the PyTorch bridge against that binary (Debian's
# CPU builds of torch and torchvision). The kernels split work across workers
# ($OICSR_THREADS), so the Swift suite runs with 2 workers, then with 1 and with 8 (more
# workers than this machine has cores), where a race between workers would show.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-missing.sh python3-torch python3-torchvision
swift build -c release --product oicsr
swift build --build-tests
for workers in 2 1 8; do
    echo "== Swift tests with OICSR_THREADS=$workers" >&2
    OICSR_THREADS=$workers swift test --skip-build "$@"
done
export OICSR_BIN="$PWD/.build/release/oicsr"
echo "== the PyTorch bridge" >&2
scripts/bridge-test.sh
echo "== parity with PyTorch on torchvision models" >&2
PYTHONPATH=python /usr/bin/python3 python/parity_table.py
echo "== every command's error paths under the address sanitizer" >&2
scripts/asan-cli.sh
echo "== a short fuzzing run of every parser" >&2
scripts/fuzz.sh --ci
echo "== the README's loop: export, prune, load, fine-tune (one and two processes), ONNX" >&2
scripts/bridge-loop.sh
