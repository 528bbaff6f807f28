#!/usr/bin/env python3
"""Prints the markdown table of the bridge's parity with the oicsr binary: for each
torchvision model at 3x64x64 (random weights, randomised BatchNorm statistics, 10 classes),
max |Δlogit| relative to the logits' scale of

- dense: `oicsr predict` on the exported checkpoint against PyTorch;
- pruned: after `oicsr prune --flops 0.3`, the checkpoint loaded back into the torchvision
  class against `oicsr predict` on it;
- masked: that loaded model against the dense PyTorch model with the pruned channels zeroed;
- compensated: after `oicsr prune --flops 0.3 --compensate on`, the loaded model against the
  zeroed dense model with the compensation computed in Python (oicsr_torch.surgery.compensate).

Exits 1 when a model fails or any figure exceeds 1e-4 (said under the table), 2 without the binary.

    OICSR_BIN=.build/release/oicsr PYTHONPATH=python /usr/bin/python3 python/parity_table.py [MODEL ...]
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

import torchvision  # noqa: E402

from helpers import randomize  # noqa: E402
from oicsr_torch import parity  # noqa: E402

TOLERANCE = 1e-4
COLUMNS = {"dense": "dense", "pruned": "pruned, loaded back", "masked": "pruned vs masked", "compensated": "compensated"}
MODELS = ["resnet18", "resnet50", "vgg11_bn", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "densenet121"]


def main(names):
    if not parity.binary():
        print("set OICSR_BIN to the oicsr binary", file=sys.stderr)
        return 2
    print("| model | dense: oicsr vs PyTorch | pruned 30% FLOPs, loaded back: PyTorch vs oicsr | pruned vs dense with pruned channels zeroed "
          "| compensated vs the same in PyTorch |")
    print("| --- | --- | --- | --- | --- |")
    problems = []
    for name in names or MODELS:
        with tempfile.TemporaryDirectory(prefix="oicsr-parity-") as folder:
            try:
                r = parity.compare(name, lambda: randomize(getattr(torchvision.models, name)(num_classes=10)), (3, 64, 64), folder)
            except Exception as error:  # one model's failure is reported in its row
                problems.append(f"{name} failed")
                print(f"| {name} | failed: {str(error).splitlines()[0][:120]} | | | |", flush=True)
                continue
            cells = []
            for key, what in COLUMNS.items():
                within = r[key] <= TOLERANCE   # False for NaN too
                cells.append(f"{r[key]:.1e}" if within else f"**{r[key]:.1e}**")
                if not within:
                    problems.append(f"{name} {what} {r[key]:.1e}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print("\nmax |Δlogit| relative to the largest |logit|; random inputs of 3x64x64, batch 4.")
    if problems:
        print(f"\nFAILED: above {TOLERANCE:.0e} or not run: " + "; ".join(problems) + ".")
        return 1
    print(f"\nAll figures within {TOLERANCE:.0e}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
