#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer and the address sanitizer.
#
#   scripts/fuzz.sh PARSER [SECONDS] [LIBFUZZER-FLAG…]   one parser, SECONDS (default 60; 0: no time limit)
#   scripts/fuzz.sh --ci                                 every parser for 20 s, from the seed corpus only
#   scripts/fuzz.sh --build                              only build the four fuzz targets
#
# PARSER is one of: safetensors (a checkpoint file, then its metadata against its
# architecture), architecture (architecture JSON), idx (IDX files, raw or gzip'd), cifar
# (CIFAR-10/100 binary files, raw or gzip'd). Extra flags go to libFuzzer, e.g. -runs=10000000.
#
# Inputs start from the seed corpus in Fuzz/corpus/PARSER; what the fuzzer finds that is new is
# kept in .build/fuzz/corpus/PARSER (not in the repo), crashes go to .build/fuzz/findings/PARSER.
# A finding is: a crash or trap, a sanitizer report, an input that takes over 10 s, a single
# allocation over 512 MB (-malloc_limit_mb) or a process over 2 GB (-rss_limit_mb). Replay one
# without the sanitizer: swift run fuzz-PARSER FILE.
#
# The targets are built in debug mode (Swift's overflow and bounds checks stay on; release
# builds compile the engine with -Ounchecked, which would hide them) with -O for speed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

parsers=(safetensors architecture idx cifar)
scratch=.build/fuzz
malloc_limit_mb=512
rss_limit_mb=2048

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

max_len() {
    case "$1" in
        safetensors) echo 8192 ;;
        architecture) echo 4096 ;;
        idx) echo 4096 ;;
        cifar) echo 8192 ;;
    esac
}

build() {
    for parser in "$@"; do
        local product="fuzz-$parser"
        swift build -c debug --scratch-path "$scratch" \
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -O \
            --product "$product" 2>&1 | grep -v "Cannot export local symbol" >&2 || true
        [[ -x "$scratch/debug/$product" ]] || { echo "fuzz.sh: building $product failed" >&2; exit 1; }
    done
}

# run PARSER SECONDS CORPUS FINDINGS [FLAGS…]: the fuzzer's status is its exit status.
run() {
    local parser=$1 seconds=$2 corpus=$3 findings=$4
    shift 4
    mkdir -p "$corpus" "$findings"
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
    "$scratch/debug/fuzz-$parser" "$corpus" "Fuzz/corpus/$parser" \
        -dict="Fuzz/dictionaries/$parser.dict" \
        -max_len="$(max_len "$parser")" -max_total_time="$seconds" -timeout=10 \
        -malloc_limit_mb="$malloc_limit_mb" -rss_limit_mb="$rss_limit_mb" \
        -artifact_prefix="$findings/" -print_final_stats=1 "$@"
}

case "${1:-}" in
    ""|-h|--help) usage ;;
    --build)
        build "${parsers[@]}"
        ;;
    --ci)
        build "${parsers[@]}"
        failed=()
        for parser in "${parsers[@]}"; do
            work=$(mktemp -d)
            echo "== $parser: 20 s" >&2
            if ! run "$parser" 20 "$work/corpus" "$work/findings" 2>"$work/log"; then
                tail -n 40 "$work/log" >&2
                failed+=("$parser")
            else
                grep -E "^#[0-9]+[[:space:]]+DONE" "$work/log" | tail -n 1 >&2 || true
            fi
            rm -rf "$work"
        done
        if ((${#failed[@]})); then echo "fuzz.sh: findings in: ${failed[*]}" >&2; exit 1; fi
        echo "fuzz.sh: no findings" >&2
        ;;
    *)
        parser=$1
        [[ " ${parsers[*]} " == *" $parser "* ]] || { echo "fuzz.sh: unknown parser '$parser'; one of: ${parsers[*]}" >&2; exit 2; }
        shift
        seconds=60
        if [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
        build "$parser"
        run "$parser" "$seconds" "$scratch/corpus/$parser" "$scratch/findings/$parser" "$@"
        ;;
esac
