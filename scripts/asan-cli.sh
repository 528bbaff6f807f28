#!/usr/bin/env bash
# Runs every command's error paths against an oicsr built with the address sanitizer: bad
# flags, missing files, corrupt checkpoints and data files of each kind, special files (FIFO,
# device, folder) as inputs and as output targets, and closed, full or broken output streams.
# Fails on any sanitizer report, any crash (a signal), any hang (60 s) and any exit status
# other than the one expected. Takes a few minutes; CI can call it.
#
#   scripts/asan-cli.sh            build (.build/asan) and run
#   scripts/asan-cli.sh --no-build run against the binary built before
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
root=$PWD
scratch=.build/asan

if [[ "${1:-}" != --no-build ]]; then
    swift build -c debug --scratch-path "$scratch" -Xswiftc -sanitize=address --product oicsr 2>&1 \
        | grep -v "Cannot export local symbol" | tail -n 3 >&2
fi
binary=$root/$scratch/debug/oicsr
[[ -x "$binary" ]] || { echo "asan-cli.sh: no binary at $binary" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p reports
# Reports go to files, so that they are seen even when a case closes or fills stderr.
export ASAN_OPTIONS="log_path=$work/reports/asan:detect_leaks=0:abort_on_error=0"
export SWIFT_BACKTRACE=enable=no
export OICSR_DATA=$work/data XDG_CACHE_HOME=$work/cache

# MARK: Fixtures, made with the shell only

# u32be N: N as 4 big-endian bytes.  u64le N: N as 8 little-endian bytes.
u32be() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
u64le() { local n=$1 i; for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $((n >> (8 * i) & 255)))"; done; }

# idx DIR PREFIX N: N 4x4 images and their labels (0…9).
idx() {
    { printf '\0\0\x08\x03'; u32be "$3"; u32be 4; u32be 4; head -c $(($3 * 16)) /dev/urandom; } > "$1/$2-images-idx3-ubyte"
    { printf '\0\0\x08\x01'; u32be "$3"; for ((i = 0; i < $3; i++)); do printf "\\x0$((i % 10))"; done; } > "$1/$2-labels-idx1-ubyte"
}
mkdir -p data
idx data train 40
idx data t10k 20
cat > micro.json <<'EOF'
{"name": "micro", "input": [1, 4, 4], "classes": 10, "layers": [
  {"name": "conv1", "kind": "conv2d", "out": 4, "kernel": 3, "padding": 1},
  {"name": "bn1", "kind": "batchnorm"}, {"name": "relu1", "kind": "relu"},
  {"name": "conv2", "kind": "conv2d", "out": 4, "kernel": 3, "padding": 1},
  {"name": "bn2", "kind": "batchnorm"}, {"name": "relu2", "kind": "relu"},
  {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 10}]}
EOF
"$binary" train --model micro.json --data data --epochs 1 --batch-size 10 --out good.safetensors 2>/dev/null >/dev/null

# safetensors HEADER [DATA-BYTES]: a file with that header text and that many zero bytes.
safetensors() { u64le ${#1}; printf '%s' "$1"; head -c "${2:-0}" /dev/zero; }
# rewrite SED-EXPRESSION: good.safetensors with its header text edited, on stdout.
rewrite() {
    local n header
    n=$(od -An -t u8 -N8 good.safetensors | tr -d ' ')
    header=$(tail -c +9 good.safetensors | head -c "$n" | sed -e "$1")
    u64le ${#header}; printf '%s' "$header"; tail -c +$((9 + n)) good.safetensors
}

head -c 100 good.safetensors > truncated.safetensors
printf '\xff\xff\xff\0\0\0\0\0{}' > header-past-end.safetensors
{ u64le 150000000; } > header-oversize.safetensors && truncate -s 150000100 header-oversize.safetensors
truncate -s $(((1 << 32) + 1)) huge.safetensors
safetensors 'not json' > not-json.safetensors
safetensors '{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}' 2 > bad-dtype.safetensors
safetensors '{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}' 16 > beyond.safetensors
safetensors '{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}' 16 > shape-overflow.safetensors
safetensors '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' 12 > overlap.safetensors
safetensors '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' 8 > duplicate.safetensors
safetensors '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' 4 > no-metadata.safetensors
rewrite 's/oicsr\.architecture/oicsr.arch/' > no-architecture.safetensors
rewrite 's/\\"kind\\":\\"relu\\"/\\"kind\\":\\"gelu\\"/' > unknown-kind.safetensors
rewrite 's/\\"out\\":4,/\\"out\\":4611686018427387904,/' > huge-width.safetensors
rewrite 's/\\"out\\":4,/\\"out\\":1000000000,/' > billion-width.safetensors
rewrite 's/\\"padding\\":1/\\"padding\\":2305843009213693952/' > huge-padding.safetensors
rewrite 's/"conv2.weight"/"conv9.weight"/' > renamed-tensor.safetensors
rewrite 's/\\"std\\":\[[^]]*\]/\\"std\\":[0]/' > zero-std.safetensors
mkfifo fifo.safetensors fifo-out
mkdir folder.safetensors folder-out
ln -s /dev/null null-link.safetensors

data_case() {  # data_case NAME: a copy of data/ to break
    rm -rf "data-$1"; cp -r data "data-$1"; echo "data-$1"
}
d=$(data_case truncated); head -c 30 data/train-images-idx3-ubyte > "$d/train-images-idx3-ubyte"
d=$(data_case magic); cp data/train-labels-idx1-ubyte "$d/train-images-idx3-ubyte"
d=$(data_case labels); printf '\0\0\x08\x01\0\0\0\x28' > "$d/train-labels-idx1-ubyte"; head -c 40 /dev/urandom >> "$d/train-labels-idx1-ubyte"
d=$(data_case huge-dims); { printf '\0\0\x08\x03'; u32be 454279; u32be 31252369; u32be 649657; } > "$d/train-images-idx3-ubyte"
d=$(data_case bomb); { printf '\0\0\x08\x01'; u32be 40; head -c 40 /dev/zero; head -c 50000000 /dev/zero; } | gzip -c > "$d/train-labels-idx1-ubyte.gz"; rm "$d/train-labels-idx1-ubyte"
d=$(data_case declared); { printf '\0\0\x08\x03'; u32be 4294967295; u32be 28; u32be 28; } | gzip -c > "$d/train-images-idx3-ubyte.gz"; rm "$d/train-images-idx3-ubyte"
d=$(data_case corrupt-gzip); gzip -c data/train-images-idx3-ubyte | head -c 40 > "$d/train-images-idx3-ubyte.gz"; printf 'garbage!' >> "$d/train-images-idx3-ubyte.gz"; rm "$d/train-images-idx3-ubyte"
d=$(data_case fifo); rm "$d/t10k-images-idx3-ubyte"; mkfifo "$d/t10k-images-idx3-ubyte"
d=$(data_case folder); rm "$d/t10k-labels-idx1-ubyte"; mkdir "$d/t10k-labels-idx1-ubyte"
mkdir -p cifar-truncated cifar-labels cifar-bomb
head -c 3073 /dev/urandom > cifar-truncated/data_batch_1.bin; head -c 100 /dev/urandom > cifar-truncated/test_batch.bin
{ printf '\x0b'; head -c 3072 /dev/urandom; } > cifar-labels/test_batch.bin
for i in 1 2 3 4 5; do cp cifar-labels/test_batch.bin "cifar-labels/data_batch_$i.bin"; done
head -c 60000000 /dev/zero | gzip -c > cifar-bomb/test_batch.bin; cp cifar-bomb/test_batch.bin cifar-bomb/data_batch_1.bin

# MARK: Cases

failures=0
cases=0
# expect STATUS COMMAND…: runs COMMAND (a shell string, $B the binary) and checks its status.
expect() {
    local status=$1 command=$2 got
    cases=$((cases + 1))
    set +e
    B=$binary timeout -s KILL 60 bash -c "$command" >"$work/out" 2>"$work/err" </dev/null
    got=$?
    set -e
    if [[ "$got" != "$status" ]]; then
        failures=$((failures + 1))
        echo "FAIL (exit $got, expected $status): $command" >&2
        head -c 600 "$work/err" | sed 's/^/    /' >&2
    fi
}
B='"$B"'

# Bad flags and arguments, every command.
for command in train eval prune explore energies info groups bench study; do
    expect 2 "$B $command --frobnicate"
    expect 0 "$B $command --help"
done
expect 2 "$B frobnicate"
expect 2 "$B train --epochs 0"
expect 2 "$B train --epochs -1 --model micro.json"
expect 2 "$B train --lr fast"
expect 2 "$B train --model vgg99"
expect 2 "$B train --model missing.json"
expect 2 "$B train --model micro.json --data nowhere"
expect 2 "$B eval"
expect 2 "$B eval missing.safetensors"
expect 2 "$B prune good.safetensors --flops 1.5 --out p.safetensors"
expect 2 "$B prune good.safetensors --flops"
expect 2 "$B prune good.safetensors --flops 0.3 --out good.safetensors"
expect 2 "$B info --input 0,0,0"
expect 2 "$B info --input 1,99999999999,99999999999"
expect 2 "$B info --classes -4"
expect 2 "$B groups vgg99"
expect 2 "$B energies resnet20"
expect 2 "$B bench --seconds -1"
expect 2 "$B study --epochs 0"

# Corrupt checkpoints, through every command that reads one.
for file in truncated header-past-end header-oversize huge not-json bad-dtype beyond shape-overflow overlap \
            duplicate no-metadata no-architecture unknown-kind huge-width billion-width huge-padding \
            renamed-tensor zero-std fifo folder null-link; do
    for command in "info|" "eval|--data data" "energies|" "prune|--flops 0.3 --dry-run" "explore|--data data"; do
        expect 2 "$B ${command%%|*} $file.safetensors ${command#*|}"
    done
    expect 2 "$B train --model $file.safetensors --data data --epochs 1 --out t-$file.safetensors"
done
expect 2 "$B info /dev/zero"

# Corrupt data sets.
for folder in data-truncated data-magic data-labels data-huge-dims data-bomb data-declared data-corrupt-gzip \
              data-fifo data-folder cifar-truncated cifar-labels cifar-bomb nowhere micro.json; do
    expect 2 "$B train --model micro.json --data $folder --epochs 1 --out t-$folder.safetensors"
    expect 2 "$B eval good.safetensors --data $folder"
done

# Output targets that are not regular files, with and without --force.
for target in fifo-out folder-out /dev/full null-link.safetensors; do
    expect 2 "$B train --model micro.json --data data --epochs 1 --out $target --force"
    expect 2 "$B prune good.safetensors --flops 0.3 --out $target --force"
done
[[ -c /dev/full && -p fifo-out && -d folder-out ]] || { echo "FAIL: an output target was replaced" >&2; failures=$((failures + 1)); }

# Closed, full and broken streams.
expect 1 "$B info micro.json > /dev/full"
expect 1 "$B info micro.json --json > /dev/full"
expect 1 "$B eval good.safetensors --data data --json >&-"
# A pipe whose reader is gone before the first write: EPIPE.
expect 1 "rm -f pipe; mkfifo pipe; exec 4<>pipe 5>pipe 4<&-; $B groups resnet56 >&5"
expect 2 "$B info missing.safetensors 2>&-"
expect 2 "$B info missing.safetensors 2>/dev/full"
expect 0 "$B train --model micro.json --data data --epochs 1 --out closed.safetensors 2>&- && test -s closed.safetensors"
expect 0 "$B train --model micro.json --data data --epochs 1 --out full.safetensors 2>/dev/full && test -s full.safetensors"
expect 2 "$B explore good.safetensors --data data"

reports=$(find "$work/reports" -type f | wc -l)
if ((reports > 0)); then
    echo "asan-cli.sh: $reports sanitizer report(s):" >&2
    head -n 40 "$work"/reports/* >&2
fi
echo "asan-cli.sh: $cases cases, $failures failed, $reports sanitizer reports" >&2
((failures == 0 && reports == 0))
