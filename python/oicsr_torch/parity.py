"""Checks of the bridge against the oicsr binary (its path in $OICSR_BIN): the same channel
groups, the same logits for a dense checkpoint, and for one pruned by `oicsr prune`, loaded
back into the PyTorch class. Used by tests/test_swift.py and parity_table.py.

The binary's side of the contract used here:
    oicsr groups MODEL.safetensors [--coupled] --json
    oicsr predict CKPT --input X.safetensors --out Y.safetensors     X: `input` F32 (N,C,H,W),
                                                                     normalised; Y: `logits` F32 (N,classes)
    oicsr prune CKPT --flops 0.3 --data DATA.safetensors --out P.safetensors
        P's metadata `oicsr.recipe` holds {"pruning": {"kept": {group name: [kept channel indices]}}}
"""
import os
import subprocess

import torch

from . import checkpoint as ckpt
from . import safetensors
from .data import export_data
from .export import export
from .groups import ChannelGroups
from .interpret import interpret
from .load import load
from .surgery import compensate, zero_pruned


def binary():
    return os.environ.get("OICSR_BIN")


def run(*args, timeout=1800):
    """Runs the binary; raises RuntimeError with its stderr on a non-zero exit."""
    done = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"oicsr {' '.join(map(str, args))} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def predict(checkpoint, x, folder):
    """The binary's logits for the normalised batch `x` (N, C, H, W)."""
    inputs, outputs = os.path.join(folder, "predict-in.safetensors"), os.path.join(folder, "predict-out.safetensors")
    safetensors.write(inputs, {"input": x.to(torch.float32)})
    if os.path.exists(outputs):
        os.remove(outputs)
    run("predict", checkpoint, "--input", inputs, "--out", outputs)
    tensors, _ = safetensors.read(outputs)
    return tensors["logits"]


def _slices(entries):
    """[(layer, offset, features per channel)] of a group's list, whether written as objects
    {"layer", "offset", "featuresPerChannel"} or as "layer (from channel 6, 4 columns each)"."""
    import re
    slices = []
    for entry in entries or []:
        if isinstance(entry, dict):
            slices.append((entry["layer"], entry.get("offset", 0), entry.get("featuresPerChannel", 1)))
        else:
            text = str(entry)
            offset = re.search(r"from channel (\d+)", text)
            features = re.search(r"(\d+) columns each", text)
            slices.append((text.split(" (")[0], int(offset.group(1)) if offset else 0,
                           int(features.group(1)) if features else 1))
    return slices


def comparable_groups(document):
    """The parts of a `groups --json` document both sides must agree on."""
    groups = [{"id": g["id"], "name": g["name"], "channels": g["channels"], "producers": g["producers"],
               "coupled": g["coupled"], "batchNorms": _slices(g.get("batchNorms")),
               "depthwise": _slices(g.get("depthwise")), "consumers": _slices(g.get("consumers"))}
              for g in document["groups"]]
    return {"groups": groups, "fixed": sorted(f["name"] for f in document["fixed"])}


def relative_gap(expected, found):
    return (expected - found).abs().max().item() / max(expected.abs().max().item(), 1e-12)


def compare(name, model_factory, shape, folder, flops=0.3, batch=4, seed=0):
    """{"dense": ..., "pruned": ..., "masked": ..., "compensated": ...}: max |Δlogit| relative
    to the logits' scale of the binary against PyTorch for the dense checkpoint, for the pruned
    one loaded back into `model_factory()`, and of that loaded model against the dense PyTorch
    model with the pruned channels zeroed; and of a model pruned with compensation, loaded
    back, against the zeroed dense model with the compensation computed here."""
    model = model_factory().eval()
    dense_path = os.path.join(folder, f"{name}.safetensors")
    traced = export(model, shape, dense_path, name=name)
    x = torch.randn((batch,) + tuple(shape), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        reference = model(x)
    result = {"dense": relative_gap(reference, predict(dense_path, x, folder))}

    data = os.path.join(folder, f"{name}-data.safetensors")
    export_data("fake", shape, 8, 8, data)
    pruned_path = os.path.join(folder, f"{name}-pruned.safetensors")
    # Without compensation: the pruned model must compute what the masked one computes.
    run("prune", dense_path, "--flops", flops, "--data", data, "--out", pruned_path, "--force", "--compensate", "off")
    pruned = load(model_factory(), pruned_path).eval()
    with torch.no_grad():
        ours = pruned(x)
    result["pruned"] = relative_gap(predict(pruned_path, x, folder), ours)
    kept = ckpt.read(pruned_path).pruning["kept"]
    masked = interpret(traced.architecture, zero_pruned(traced.architecture, traced.tensors, kept)).eval()
    with torch.no_grad():
        result["masked"] = relative_gap(masked(x), ours)

    compensated_path = os.path.join(folder, f"{name}-compensated.safetensors")
    run("prune", dense_path, "--flops", flops, "--data", data, "--out", compensated_path, "--force", "--compensate", "on")
    kept = ckpt.read(compensated_path).pruning["kept"]
    folded = compensate(traced.architecture, traced.tensors, kept, into=zero_pruned(traced.architecture, traced.tensors, kept))
    with torch.no_grad():
        theirs = load(model_factory(), compensated_path).eval()(x)
        result["compensated"] = relative_gap(interpret(traced.architecture, folded).eval()(x), theirs)
        # How far compensation moved the logits from the uncompensated pruning of the same
        # channels: the comparison above means something only when this is not small.
        masked = interpret(traced.architecture, zero_pruned(traced.architecture, traced.tensors, kept)).eval()
        result["compensation"] = relative_gap(masked(x), theirs)
    return result


def groups_agree(checkpoint, coupled=False):
    """(binary's groups, Python's groups) in the comparable form."""
    args = ["groups", checkpoint, "--json"] + (["--coupled"] if coupled else [])
    import json
    theirs = comparable_groups(json.loads(run(*args)))
    ours = comparable_groups(ChannelGroups(ckpt.read(checkpoint).architecture, coupled=coupled).to_dict())
    return theirs, ours
