#!/usr/bin/env python3
"""Loads an oicsr checkpoint into the reference PyTorch module and evaluates it on the
Fashion-MNIST test set, so its top-1 and loss can be set beside `oicsr eval --json`.

    python3 scripts/pytorch_check.py model.safetensors [--reference DIR]

Needs torch and safetensors (pip). Pruned checkpoints load too: the widths come from the
architecture recorded in the checkpoint's metadata.
"""
import argparse, gzip, json, os, sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file


def widths_of(arch):
    convs = [l for l in arch["layers"] if l["kind"] == "conv2d"]
    if arch["name"] == "convnet-s":
        return {"widths": tuple(c["out"] for c in convs)}
    inner = [c["out"] for c in convs if c["name"].endswith(".conv1")]
    return {"inner": inner}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "..", "reference"))
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    import torch_models

    with safe_open(args.checkpoint, "pt") as f:
        meta = f.metadata()
    arch = json.loads(meta["oicsr.architecture"])
    norm = json.loads(meta["oicsr.normalization"])
    model = torch_models.build(arch["name"], in_channels=arch["input"][0], classes=arch["classes"], **widths_of(arch))
    model.load_state_dict(load_file(args.checkpoint), strict=True)
    model.eval()

    with gzip.open(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - norm["mean"][0]) / norm["std"][0]
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 500]) for i in range(0, len(x), 500)])
    top1 = (logits.argmax(1) == labels).float().mean().item()
    loss = torch.nn.functional.cross_entropy(logits, labels).item()
    print(json.dumps({"checkpoint": args.checkpoint, "model": arch["name"], "top1": top1, "loss": loss,
                      "predictions_sha": __import__("hashlib").sha1(logits.argmax(1).numpy().tobytes()).hexdigest()}))


if __name__ == "__main__":
    main()
