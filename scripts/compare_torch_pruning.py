"""oicsr's default selection against Torch-Pruning's group-magnitude importance, on the same weights.

For every model of a study (docs/oicsr-study.json: the checkpoints it trained, at the chosen λ,
late in training) and every target of 10-70% of MACs removed, with no fine-tuning and no BN
re-estimation:

- oicsr: `oicsr prune CHECKPOINT --flops T --json` with its defaults (the ranking chosen on the
  last 2000 training images, which the study's models never saw; cap 50% of a layer's
  channels), which evaluates the pruned model on the test set. Every oicsr figure on the page
  comes from that output.
- Torch-Pruning (the library itself, `pip install --no-deps torch-pruning`): the same checkpoint
  loaded into the reference PyTorch module (reference/torch_models.py), pruned by
  `MetaPruner(importance=GroupMagnitudeImportance(p=2), global_pruning=True,
  max_pruning_ratio=0.5)` over the same prunable channels (the classifier and, in resnet20, the
  residual stages are ignored, as oicsr prunes block-internal channels by default), with the
  channel ratio searched so that MACs removed first reaches T; evaluated in PyTorch on the same
  test images with the checkpoint's normalisation.

MACs are counted as oicsr counts them: multiply-accumulates of conv and linear layers for one
image. Writes a Markdown table (default docs/selection-vs-torch-pruning.md) and a JSON file.

    PYTHONPATH=python:reference python3 scripts/compare_torch_pruning.py --oicsr .build/release/oicsr
"""
import argparse
import copy
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "python"), os.path.join(HERE, "..", "reference")]

from oicsr_torch import safetensors  # noqa: E402
from oicsr_torch.checkpoint import load_state  # noqa: E402
import torch_models  # noqa: E402

VARIANTS = ["l2", "gl/subgradient", "gl/proximal", "oicsr-gl/subgradient", "oicsr-gl/proximal"]
TARGETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def checkpoint_path(study, architecture, variant):
    """The late checkpoint of `variant` at its chosen λ, as `oicsr study` recorded it."""
    return study["checkpoints"][architecture][variant]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def test_set(folder):
    images = read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255
    labels = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def load_model(path, architecture):
    tensors, metadata = safetensors.read(path)
    model = torch_models.build(architecture)
    load_state(model, tensors, source=path)
    model.eval()
    norm = json.loads(metadata["oicsr.normalization"])
    return model, norm


@torch.no_grad()
def top1(model, images, labels, norm):
    mean = torch.tensor(norm["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"]).view(1, -1, 1, 1)
    model.eval()
    correct = 0
    for start in range(0, len(labels), 500):
        x = (images[start:start + 500] - mean) / std
        correct += (model(x).argmax(1) == labels[start:start + 500]).sum().item()
    return correct / len(labels)


def macs(model):
    """Multiply-accumulates of conv and linear layers for one 1x28x28 image."""
    total = 0
    hooks = []

    def conv_hook(m, inputs, output):
        nonlocal total
        kh, kw = m.kernel_size
        total += output.shape[1] * (kh * kw * m.in_channels // m.groups) * output.shape[2] * output.shape[3]

    def linear_hook(m, inputs, output):
        nonlocal total
        total += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return total


def ignored_layers(model, architecture, coupled=True):
    """The classifier, and in a ResNet without coupled channels every conv whose output joins a
    residual sum."""
    ignored = [model.fc]
    if architecture.startswith("resnet") and not coupled:
        for name, m in model.named_modules():
            # Block-internal convs are "layerS.B.conv1"; the stem "conv1", every "conv2" and the
            # shortcuts write the residual stages.
            if isinstance(m, nn.Conv2d) and not name.endswith(".conv1"):
                ignored.append(m)
    return ignored


def make_pruner(model, architecture, ratio, coupled):
    import torch_pruning as tp
    return tp.pruner.MetaPruner(
        model, torch.zeros(1, 1, 28, 28), importance=tp.importance.GroupMagnitudeImportance(p=2),
        global_pruning=True, pruning_ratio=ratio, max_pruning_ratio=0.5,
        ignored_layers=ignored_layers(model, architecture, coupled))


def torch_pruning(model, architecture, n_pruned, total_channels, coupled):
    """A copy of `model` pruned by Torch-Pruning to `n_pruned` channels by its global threshold."""
    pruned = copy.deepcopy(model)
    # TP prunes len(imp) - int(total * (1 - ratio)) channels; this ratio asks for n_pruned.
    make_pruner(pruned, architecture, (n_pruned - 0.5) / total_channels, coupled).step()
    pruned.eval()
    return pruned


def importances(model, architecture, coupled):
    """Torch-Pruning's importance of every channel of every group it would rank, computed by the
    library on a throw-away copy, with the convs whose outputs each group sets."""
    copy_ = copy.deepcopy(model)
    pruner = make_pruner(copy_, architecture, 0.5, coupled)
    names = {m: n for n, m in copy_.named_modules()}
    groups = []
    for group in pruner.DG.get_all_groups(ignored_layers=pruner.ignored_layers, root_module_types=pruner.root_module_types):
        if not pruner._check_pruning_ratio(group):
            continue
        imp = pruner.estimate_importance(group)
        if imp is not None:
            writers = frozenset(names[dep.target.module] for dep, _ in group
                                if pruner.DG.is_out_channel_pruning_fn(dep.handler) and isinstance(dep.target.module, nn.Conv2d))
            groups.append((writers, imp.detach().cpu()))
    return groups


def widths_after(architecture, groups, n_pruned):
    """Widths Torch-Pruning's global threshold leaves when it prunes `n_pruned` channels: every
    channel whose importance is at most the n-th smallest goes (as its MetaPruner does)."""
    everything = torch.cat([imp for _, imp in groups])
    threshold = torch.topk(everything, k=n_pruned, largest=False)[0][-1]
    return {name: int((imp > threshold).sum()) for names, imp in groups for name in names}


def build_with(architecture, widths):
    """The reference module at the widths a plan leaves: per group, by the name of its root conv."""
    if architecture == "convnet-s":
        return torch_models.build(architecture, widths=tuple(widths.get(f"conv{i}", w) for i, w in zip(range(1, 6), (32, 32, 64, 64, 128))))
    blocks = 3 if architecture == "resnet20" else 9
    inner = [widths.get(f"layer{s}.{b}.conv1", w) for s, w in zip((1, 2, 3), (16, 32, 64)) for b in range(blocks)]
    # A residual stage's group is rooted at the first conv that writes it: the stem for stage 1,
    # the first block's shortcut for the others.
    roots = {1: "conv1", 2: "layer2.0.shortcut.0", 3: "layer3.0.shortcut.0"}  # a conv that writes each stage
    stages = tuple(widths.get(roots[s], w) for s, w in zip((1, 2, 3), (16, 32, 64)))
    return torch_models.build(architecture, inner=inner, stage_widths=stages)


def prunable_channels(groups):
    return sum(len(imp) for _, imp in groups)


def torch_pruning_at(model, architecture, target, dense_macs, groups, coupled):
    """The fewest channels whose Torch-Pruning plan removes at least `target` of MACs. The widths
    of a plan follow from the library's importances and threshold rule, so the search runs on
    them (more channels never remove fewer MACs under one threshold); the library then prunes
    the model once, and its MACs must be the ones predicted."""
    total = prunable_channels(groups)
    low, high, found = 1, total - 1, None
    while low <= high:
        middle = (low + high) // 2
        removed = 1 - macs(build_with(architecture, widths_after(architecture, groups, middle))) / dense_macs
        if removed >= target:
            found, high = middle, middle - 1
        else:
            low = middle + 1
    pruned = torch_pruning(model, architecture, found, total, coupled)
    removed = 1 - macs(pruned) / dense_macs
    predicted = 1 - macs(build_with(architecture, widths_after(architecture, groups, found))) / dense_macs
    if abs(removed - predicted) > 1e-9:
        raise SystemExit(f"Torch-Pruning removed {removed:.4%} of MACs where its importances predict {predicted:.4%}")
    return pruned, removed, found


def oicsr_prune(binary, checkpoint, target, data, coupled, normalization=None):
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "pruned.safetensors")
        run = subprocess.run([binary, "prune", checkpoint, "--flops", str(target), "--data", data, "--out", out, "--json"]
                             + (["--coupled"] if coupled else []) + (["--normalization", normalization] if normalization else []),
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"oicsr prune {checkpoint} --flops {target}: {run.stderr.strip()}")
        return json.loads(run.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", default="docs/oicsr-study.json", help="results of oicsr study (which checkpoints)")
    parser.add_argument("--oicsr", default=".build/release/oicsr", help="the oicsr binary")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="Fashion-MNIST IDX folder")
    parser.add_argument("--out", default="docs/selection-vs-torch-pruning", help="output path without extension (.md, .json)")
    parser.add_argument("--targets", default=",".join(str(t) for t in TARGETS))
    parser.add_argument("--normalization", help="rank oicsr's channels by this normalisation instead of its default")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--render", action="store_true", help="only write the page again from OUT.json")
    args = parser.parse_args()
    if args.render:
        results = json.load(open(args.out + ".json"))
        write_page(args.out + ".md", json.load(open(args.study)), results["rows"], results["torchPruning"], results.get("normalization"))
        return
    import torch_pruning as tp

    torch.set_num_threads(1)
    study = json.load(open(args.study))
    images, labels = test_set(args.data)
    targets = [float(t) for t in args.targets.split(",")]
    rows = []
    started = time.time()
    for architecture in study["architectures"]:
        for variant in args.variants.split(","):
            path = checkpoint_path(study, architecture, variant)
            model, norm = load_model(path, architecture)
            dense_macs = macs(model)
            dense = top1(model, images, labels, norm)
            coupled = study["coupled"][architecture]
            groups = importances(model, architecture, coupled)
            for target in targets:
                mine = oicsr_prune(args.oicsr, path, target, args.data, coupled, args.normalization)
                found = torch_pruning_at(model, architecture, target, dense_macs, groups, coupled)
                theirs, removed, channels = found
                row = {"architecture": architecture, "variant": variant, "checkpoint": path, "target": target,
                       "dense": dense, "oicsrSelection": f"{mine['criterion']}/{mine['normalization']}",
                       "oicsrRemoved": mine["removedShare"], "oicsrTop1": mine["prunedTop1"],
                       "oicsrDense": mine["denseTop1"], "tpRemoved": removed, "tpTop1": top1(theirs, images, labels, norm),
                       "tpChannels": channels}
                rows.append(row)
                print(f"{architecture} {variant} {target:.0%}: oicsr {row['oicsrTop1']:.2%} at {row['oicsrRemoved']:.2%}, "
                      f"torch-pruning {row['tpTop1']:.2%} at {removed:.2%}", file=sys.stderr)
    with open(args.out + ".json", "w") as f:
        json.dump({"torchPruning": getattr(tp, "__version__", "?"), "torch": torch.__version__, "normalization": args.normalization, "rows": rows,
                   "seconds": time.time() - started}, f, indent=1)
    write_page(args.out + ".md", study, rows, getattr(tp, "__version__", "?"), args.normalization)


def shortfall(rows):
    """Where oicsr keeps less: how much at most, and at what accuracy."""
    lost = [r for r in rows if r["oicsrTop1"] < r["tpTop1"]]
    if not lost:
        return "."
    worst = max(r["tpTop1"] - r["oicsrTop1"] for r in lost) * 100
    ceiling = max(r["tpTop1"] for r in lost) * 100
    return (f"; in the other {len(lost)} it keeps up to {worst:.2f} points less, where both prunings leave at most "
            f"{ceiling:.1f}% top-1 (the dense models: about 80%).")


def write_page(path, study, rows, version, normalization):
    wins = sum(r["oicsrTop1"] >= r["tpTop1"] for r in rows)
    calibrated = normalization is None
    lines = [
        "# The default selection against Torch-Pruning, on the same weights",
        "",
        f"Written by `scripts/compare_torch_pruning.py` from the checkpoints of `oicsr study` ({study['dataset']}, "
        f"{study['trainExamples']} training images, {study['epochs']} epochs, λ as chosen in [oicsr-study.md](oicsr-study.md)). "
        f"Top-1 on the {study['testExamples']}-image test set, one-shot, **no fine-tuning and no BN re-estimation**.",
        "",
        "- **oicsr**: `oicsr prune CHECKPOINT --flops T --json`, its defaults: "
        + ("the ranking (normalisation, and the criterion where training left it open) that keeps the most top-1 "
           "as pruned on the last 2000 training images, which the study's models never saw (see [selection.md](selection.md)); "
           if calibrated else f"the fixed ranking ({', '.join(sorted({r['oicsrSelection'] for r in rows}))}); ")
        + "cap 50% of a layer's channels. The oicsr figures are that command's output.",
        f"- **Torch-Pruning {version}**: `MetaPruner(GroupMagnitudeImportance(p=2), global_pruning=True, max_pruning_ratio=0.5)` "
        "on the same checkpoint loaded into the reference PyTorch module, over the same prunable channels (the classifier "
        "ignored; "
        + ", ".join(f"{a}'s residual stages {'pruned as coupled groups' if c else 'ignored'}" for a, c in study["coupled"].items() if a.startswith("resnet"))
        + ", as the study prunes them); the channel ratio is the smallest whose plan removes at least T of MACs.",
        "",
        "Each cell: top-1 (%) at MACs removed (%). MACs: multiply-accumulates of conv and linear layers for one 28x28 image.",
        "",
        f"oicsr keeps at least as much top-1 in **{wins} of {len(rows)}** cases" + shortfall(rows) + " By model and regularizer:",
        "",
        "| model | regularizer | oicsr ≥ TP | mean oicsr − TP (points) |",
        "| --- | --- | --- | --- |",
    ]
    for architecture, variant in dict.fromkeys((r["architecture"], r["variant"]) for r in rows):
        mine = [r for r in rows if r["architecture"] == architecture and r["variant"] == variant]
        kept = sum(r["oicsrTop1"] >= r["tpTop1"] for r in mine)
        mean = sum(r["oicsrTop1"] - r["tpTop1"] for r in mine) / len(mine) * 100
        lines.append(f"| {architecture} | {variant} | {kept} of {len(mine)} | {mean:+.2f} |")
    lines += [
        "",
        "Torch-Pruning's group magnitude averages each channel's sum of squared weights over the layers of its group "
        "(producer, BatchNorm, consumers) and divides by the group's mean: close to oicsr's out-in energy "
        "under `layer-mean`, one of the candidates oicsr's calibration measures, so where that ranking is the best "
        "the two prune nearly the same channels. Elsewhere another normalisation keeps more: on weights that are not "
        "sparse a layer's scale says little, and on weights a regularizer has made sparse the raw energy finds the "
        "dead channels of every layer. Over all cells oicsr − Torch-Pruning is "
        f"{sum(r['oicsrTop1'] - r['tpTop1'] for r in rows) / len(rows) * 100:+.2f} points on average.",
        "",
        "| model | regularizer | dense | T | oicsr | oicsr's ranking | Torch-Pruning | oicsr − TP |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['architecture']} | {r['variant']} | {r['dense'] * 100:.2f} | {r['target']:.0%} | "
                     f"{r['oicsrTop1'] * 100:.2f} at {r['oicsrRemoved'] * 100:.1f} | {r['oicsrSelection']} | "
                     f"{r['tpTop1'] * 100:.2f} at {r['tpRemoved'] * 100:.1f} | {(r['oicsrTop1'] - r['tpTop1']) * 100:+.2f} |")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
