#!/bin/sh
# The "Bring your own model" loop of python/README.md, end to end, as a user runs it, on a
# small model in a temporary folder: export a torchvision model, export fake images, prune it
# in oicsr, evaluate it, load it back into the torchvision class (and ONNX), fine-tune it in
# PyTorch on one process and on two (torchrun), and evaluate the result in oicsr again.
#
#     scripts/bridge-loop.sh                     # OICSR_BIN=.build/release/oicsr by default
#     OICSR_BIN=/path/to/oicsr MODEL=resnet18 scripts/bridge-loop.sh
#
# Prints each command (to stderr, as set -x) before it runs it and stops at the first that fails. Needs Debian's
# /usr/bin/python3 with python3-torch and python3-torchvision (or $PYTHON).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OICSR_BIN=${OICSR_BIN:-.build/release/oicsr}
case $OICSR_BIN in /*) ;; *) OICSR_BIN=$ROOT/$OICSR_BIN ;; esac
PYTHON=${PYTHON:-/usr/bin/python3}
MODEL=${MODEL:-mobilenet_v3_small}
if [ ! -x "$OICSR_BIN" ]; then
    echo "bridge-loop: no oicsr binary at $OICSR_BIN (build it with 'swift build -c release', or set OICSR_BIN)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/oicsr-loop.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
cd "$WORK"
START=$(date +%s)

run() {
    echo "+ $*" >&2
    "$@"
}

# torchrun from PATH when it runs with this Python, else the same launcher as a module.
TORCHRUN="$PYTHON -m torch.distributed.run"
if command -v torchrun >/dev/null 2>&1 && [ "$(head -n 1 "$(command -v torchrun)")" = "#!$(readlink -f "$PYTHON")" ]; then
    TORCHRUN=torchrun
fi
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "# in $WORK, with $OICSR_BIN"
run "$PYTHON" -m oicsr_torch export "torchvision:$MODEL" --input 3x32x32 --classes 10 --dataset fake --out model.safetensors
run "$PYTHON" -m oicsr_torch export-data fake --input 3x32x32 --train 96 --test 48 --out data.safetensors
run "$OICSR_BIN" prune model.safetensors --flops 0.3 --data data.safetensors --out pruned.safetensors
run "$OICSR_BIN" eval pruned.safetensors --data data.safetensors
run "$PYTHON" -m oicsr_torch load pruned.safetensors --model "torchvision:$MODEL" --out pruned.pt --onnx pruned.onnx
run "$PYTHON" -m oicsr_torch finetune pruned.safetensors --model "torchvision:$MODEL" --data data.safetensors \
    --epochs 1 --lr 0.01 --batch-size 16 --out tuned.safetensors
# --redirects 1 --tee 1: torch 1.13's launcher under Python 3.11 cannot parse its default "0".
run $TORCHRUN --nproc_per_node 2 --redirects 1 --tee 1 --master_addr 127.0.0.1 --master_port "$PORT" \
    --log_dir torchrun-logs -m oicsr_torch finetune pruned.safetensors --model "torchvision:$MODEL" \
    --data data.safetensors --epochs 1 --lr 0.01 --batch-size 16 --reg oicsr-gl --lambda 1e-4 --out tuned-ddp.safetensors
run "$OICSR_BIN" eval tuned-ddp.safetensors --data data.safetensors

# The top-1 oicsr measures is the one PyTorch wrote into the checkpoint (within one image).
export OICSR_BIN
run "$PYTHON" - <<'EOF'
import json, os, subprocess
from oicsr_torch import checkpoint
done = subprocess.run([os.environ["OICSR_BIN"], "eval", "tuned-ddp.safetensors", "--data", "data.safetensors", "--json"],
                      check=True, stdout=subprocess.PIPE, text=True)
evaluation = json.loads(done.stdout)["evaluation"]
written = json.loads(checkpoint.read("tuned-ddp.safetensors").metadata["oicsr.metrics"])
gap = abs(evaluation["top1"] - written["top1"]) * evaluation["count"]
print(f"top-1: oicsr {evaluation['top1'] * 100:.2f}%, PyTorch {written['top1'] * 100:.2f}% "
      f"({gap:.0f} images apart of {evaluation['count']})")
raise SystemExit(0 if gap <= 1 + 1e-9 else 1)
EOF
echo "# the loop took $(($(date +%s) - START))s"
