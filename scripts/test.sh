#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit tests, golden screens, and the
# end-to-end run of the release binary in tmux. The kernels split work across workers
# ($OICSR_THREADS), so the suite runs with 2 workers, then with 1 and with 8 (more workers
# than this machine has cores), where a race between workers would show.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product oicsr
swift build --build-tests
for workers in 2 1 8; do
    echo "== tests with OICSR_THREADS=$workers" >&2
    OICSR_THREADS=$workers swift test --skip-build "$@"
done
