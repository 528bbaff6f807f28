"""oicsr's default selection against Torch-Pruning's group-magnitude importance, on the same weights.

For every model of a study (docs/oicsr-study.json: the checkpoints it trained, at the chosen λ,
late in training) and every target of 10-70% of MACs removed, with no fine-tuning and no BN
re-estimation:

- oicsr: `oicsr prune CHECKPOINT --flops T --json` with its defaults (the ranking, and whether
  surgery compensates the removed channels, chosen on the last 10000 training images, which the
  study's models never saw; cap 50% of a layer's channels), which evaluates the pruned model on
  the test set. Every oicsr figure on the page comes from that output.
- Torch-Pruning (the library itself, `pip install --no-deps torch-pruning`): the same checkpoint
  loaded into the reference PyTorch module (reference/torch_models.py), ranked by
  `MetaPruner(importance=GroupMagnitudeImportance(p=2), global_pruning=True,
  max_pruning_ratio=0.5)` over the same prunable channels (the classifier ignored; resnet20's
  residual stages as the study prunes them), with the channel count searched so that MACs
  removed first reaches T; evaluated in PyTorch on the same test images with the checkpoint's
  normalisation. Its one-shot step does not hold `max_pruning_ratio` (the pruner checks it
  only before a step), so it runs twice: with the cap held, by the library's importances,
  threshold and dependency graph (the comparison under oicsr's constraint), and as the
  library's step runs it.

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
MAX_PRUNING_RATIO = 0.5  # Torch-Pruning's max_pruning_ratio, and oicsr's default cap


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
        global_pruning=True, pruning_ratio=ratio, max_pruning_ratio=MAX_PRUNING_RATIO,
        ignored_layers=ignored_layers(model, architecture, coupled))


def torch_pruning(model, architecture, groups, n_pruned, coupled, capped):
    """A copy of `model` pruned by Torch-Pruning to `n_pruned` channels by its global threshold:
    by its MetaPruner's step, or with the cap held, by its dependency graph on the channels
    `pruned_by_threshold` takes."""
    import torch_pruning as tp
    pruned = copy.deepcopy(model)
    if not capped:
        # TP prunes len(imp) - int(total * (1 - ratio)) channels; this ratio asks for n_pruned.
        make_pruner(pruned, architecture, (n_pruned - 0.5) / prunable_channels(groups), coupled).step()
    else:
        graph = tp.DependencyGraph().build_dependency(pruned, example_inputs=torch.zeros(1, 1, 28, 28))
        modules = dict(pruned.named_modules())
        for (_, _, root), taken in zip(groups, pruned_by_threshold(groups, n_pruned, capped=True)):
            if taken:
                graph.get_pruning_group(modules[root], tp.prune_conv_out_channels, idxs=taken).prune()
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
            root = group[0].dep.target.module
            groups.append((writers, imp.detach().cpu(), names[root]))
    return groups


def pruned_by_threshold(groups, n_pruned, capped):
    """Per group, the channels Torch-Pruning's global threshold takes when it prunes `n_pruned`:
    every channel whose importance is at most the n-th smallest (as its MetaPruner does). Its
    one-shot step checks `max_pruning_ratio` only before pruning (`_check_pruning_ratio` leaves
    out groups already past it), so one step may take more than half of a group; `capped` holds
    the cap the pruner was given, as oicsr holds its own: a group loses at most half of its
    channels, its least important first."""
    everything = torch.cat([imp for _, imp, _ in groups])
    threshold = torch.topk(everything, k=n_pruned, largest=False)[0][-1]
    taken = []
    for _, imp, _ in groups:
        below = (imp <= threshold).nonzero().view(-1)
        if capped:
            below = below[torch.argsort(imp[below], stable=True)][: int(MAX_PRUNING_RATIO * len(imp))]
        taken.append(sorted(below.tolist()))
    return taken


def widths_after(groups, n_pruned, capped):
    """The widths a plan leaves, by the name of every conv that writes each group."""
    return {name: len(imp) - len(taken)
            for (names, imp, _), taken in zip(groups, pruned_by_threshold(groups, n_pruned, capped)) for name in names}


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
    return sum(len(imp) for _, imp, _ in groups)


def torch_pruning_at(model, architecture, target, dense_macs, groups, coupled, capped):
    """The fewest channels whose Torch-Pruning plan removes at least `target` of MACs. The widths
    of a plan follow from the library's importances and threshold rule, so the search runs on
    them (more channels never remove fewer MACs under one threshold); the library then prunes
    the model once, and its MACs must be the ones predicted."""
    total = prunable_channels(groups)
    low, high, found = 1, total - 1, None
    while low <= high:
        middle = (low + high) // 2
        removed = 1 - macs(build_with(architecture, widths_after(groups, middle, capped))) / dense_macs
        if removed >= target:
            found, high = middle, middle - 1
        else:
            low = middle + 1
    if found is None:
        raise SystemExit(f"Torch-Pruning{' with its cap held' if capped else ''} cannot remove {target:.0%} of MACs")
    pruned = torch_pruning(model, architecture, groups, found, coupled, capped)
    removed = 1 - macs(pruned) / dense_macs
    predicted = 1 - macs(build_with(architecture, widths_after(groups, found, capped))) / dense_macs
    if abs(removed - predicted) > 1e-9:
        raise SystemExit(f"Torch-Pruning removed {removed:.4%} of MACs where its importances predict {predicted:.4%}")
    return pruned, removed, found


def oicsr_prune(binary, checkpoint, target, data, coupled, normalization=None, compensate=None):
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "pruned.safetensors")
        run = subprocess.run([binary, "prune", checkpoint, "--flops", str(target), "--data", data, "--out", out, "--json"]
                             + (["--coupled"] if coupled else []) + (["--normalization", normalization] if normalization else [])
                             + (["--compensate", compensate] if compensate else []),
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
    parser.add_argument("--compensate", choices=["off", "on", "chosen"], help="oicsr's --compensate instead of its default")
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
                mine = oicsr_prune(args.oicsr, path, target, args.data, coupled, args.normalization, args.compensate)
                row = {"architecture": architecture, "variant": variant, "checkpoint": path, "target": target,
                       "dense": dense,
                       "oicsrSelection": f"{mine['criterion']}/{mine['normalization']}" + (" +comp" if mine.get("compensated") else ""),
                       "oicsrRemoved": mine["removedShare"], "oicsrTop1": mine["prunedTop1"], "oicsrDense": mine["denseTop1"]}
                # "tp": the cap held, as oicsr holds it; "tpAsRun": the library's one-shot step.
                for prefix, capped in (("tp", True), ("tpAsRun", False)):
                    theirs, removed, channels = torch_pruning_at(model, architecture, target, dense_macs, groups, coupled, capped)
                    row |= {prefix + "Removed": removed, prefix + "Top1": top1(theirs, images, labels, norm), prefix + "Channels": channels}
                rows.append(row)
                print(f"{architecture} {variant} {target:.0%}: oicsr {row['oicsrTop1']:.2%} at {row['oicsrRemoved']:.2%}, "
                      f"torch-pruning {row['tpTop1']:.2%} at {row['tpRemoved']:.2%} (as run: {row['tpAsRunTop1']:.2%} "
                      f"at {row['tpAsRunRemoved']:.2%})", file=sys.stderr)
    with open(args.out + ".json", "w") as f:
        json.dump({"torchPruning": library_version(tp), "torch": torch.__version__, "normalization": args.normalization, "rows": rows,
                   "seconds": time.time() - started}, f, indent=1)
    write_page(args.out + ".md", study, rows, library_version(tp), args.normalization)


def library_version(tp):
    """Torch-Pruning's version: its attribute where it has one, else the installed package's."""
    from importlib import metadata
    try:
        return getattr(tp, "__version__", None) or metadata.version("torch-pruning")
    except metadata.PackageNotFoundError:
        return "?"


def shortfall(rows, theirs):
    """Where oicsr keeps less than `theirs` ("tp" or "tpAsRun"): how much at most, and at what accuracy."""
    lost = [r for r in rows if r["oicsrTop1"] < r[theirs + "Top1"]]
    if not lost:
        return "."
    worst = max(r[theirs + "Top1"] - r["oicsrTop1"] for r in lost) * 100
    ceiling = max(r[theirs + "Top1"] for r in lost) * 100
    return (f"; in the other {len(lost)} it keeps up to {worst:.2f} points less, where both prunings leave at most "
            f"{ceiling:.1f}% top-1 (the dense models: about 80%).")


def tally(rows, theirs):
    wins = sum(r["oicsrTop1"] >= r[theirs + "Top1"] for r in rows)
    mean = sum(r["oicsrTop1"] - r[theirs + "Top1"] for r in rows) / len(rows) * 100
    return wins, mean


def write_page(path, study, rows, version, normalization):
    calibrated = normalization is None
    wins, mean = tally(rows, "tp")
    wins_as_run, mean_as_run = tally(rows, "tpAsRun")
    lines = [
        "# The default selection against Torch-Pruning, on the same weights",
        "",
        f"Written by `scripts/compare_torch_pruning.py` from the checkpoints of `oicsr study` ({study['dataset']}, "
        f"{study['trainExamples']} training images, {study['epochs']} epochs, λ as chosen in [oicsr-study.md](oicsr-study.md)). "
        f"Top-1 on the {study['testExamples']}-image test set, one-shot, **no fine-tuning and no BN re-estimation**: "
        "neither side sees a training image after choosing what to remove.",
        "",
        "- **oicsr**: `oicsr prune CHECKPOINT --flops T --json`, its defaults: "
        + ("the ranking (normalisation, and the criterion where training left it open), with or without compensation, "
           "that keeps the most top-1 as pruned on the last 10000 training images, which the study's models never saw "
           "(every candidate screened on the last 2000, the 4 best measured on all 10000; see [selection.md](selection.md)); "
           if calibrated else f"the fixed ranking ({', '.join(sorted({r['oicsrSelection'] for r in rows}))}); ")
        + "compensation (`+comp` below) is part of oicsr's surgery: each removed channel's expected value, "
        "E[max(0, N(β, γ²))] from its BatchNorm carried through ReLUs, sums and pools, is folded into the biases or "
        "BatchNorm means of the layers that read it, from the weights alone; "
        + f"cap {MAX_PRUNING_RATIO:.0%} of a layer's channels. The oicsr figures are that command's output.",
        f"- **Torch-Pruning {version}**: `GroupMagnitudeImportance(p=2)`, global pruning, `max_pruning_ratio={MAX_PRUNING_RATIO}`, "
        "on the same checkpoint loaded into the reference PyTorch module, over the same prunable channels (the classifier "
        "ignored; "
        + ", ".join(f"{a}'s residual stages {'pruned as coupled groups' if c else 'ignored'}" for a, c in study["coupled"].items() if a.startswith("resnet"))
        + ", as the study prunes them); the number of channels is the smallest whose plan removes at least T of MACs. "
        "Its `MetaPruner` checks `max_pruning_ratio` only before a step (`_check_pruning_ratio` leaves out the groups "
        "already past it), so its one-shot step can take more than half of a layer. The comparison is made under the "
        "same constraint: **TP** below takes the channels the library's own importances and global threshold take, "
        "each group losing at most half of its channels (its least important first), pruned by the library's "
        "dependency graph; **TP as run** is `MetaPruner(...).step()` itself, cap not held.",
        "",
        "Each cell: top-1 (%) at MACs removed (%). MACs: multiply-accumulates of conv and linear layers for one 28x28 image.",
        "",
        f"With the same cap, oicsr keeps at least as much top-1 as Torch-Pruning in **{wins} of {len(rows)}** cases"
        + shortfall(rows, "tp") + f" Over all cells oicsr − TP is {mean:+.2f} points on average. Against the library's "
        f"step as run (cap not held) oicsr keeps at least as much in {wins_as_run} of {len(rows)}"
        + shortfall(rows, "tpAsRun") + f" On average {mean_as_run:+.2f} points. By model and regularizer:",
        "",
        "| model | regularizer | oicsr ≥ TP | mean oicsr − TP (points) | oicsr ≥ TP as run | mean oicsr − TP as run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for architecture, variant in dict.fromkeys((r["architecture"], r["variant"]) for r in rows):
        mine = [r for r in rows if r["architecture"] == architecture and r["variant"] == variant]
        (kept, mean), (kept_as_run, mean_as_run) = tally(mine, "tp"), tally(mine, "tpAsRun")
        lines.append(f"| {architecture} | {variant} | {kept} of {len(mine)} | {mean:+.2f} | {kept_as_run} of {len(mine)} | {mean_as_run:+.2f} |")
    lines += [
        "",
        "Torch-Pruning's group magnitude averages each channel's sum of squared weights over the layers of its group "
        "(producer, BatchNorm scale, consumers) and divides by the group's mean: oicsr's out-in energy under "
        "`layer-mean`, but for the BatchNorm shift, which oicsr's group holds and Torch-Pruning's magnitude leaves out. "
        "That ranking is one of the candidates oicsr's calibration measures, so where it is the best the two prune "
        "the same channels, or nearly. Elsewhere another normalisation keeps more: on weights that are not sparse a "
        "layer's scale says little, and on weights a regularizer has made sparse the raw energy finds the dead "
        "channels of every layer. The calibration chose compensation in "
        f"{sum(r['oicsrSelection'].endswith('+comp') for r in rows)} of the {len(rows)} cells: a channel after "
        "BatchNorm and ReLU averages above zero, and removing it without folding that mean into its readers shifts "
        "every layer after it.",
        "",
        "| model | regularizer | dense | T | oicsr | oicsr's ranking | TP | oicsr − TP | TP as run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['architecture']} | {r['variant']} | {r['dense'] * 100:.2f} | {r['target']:.0%} | "
                     f"{r['oicsrTop1'] * 100:.2f} at {r['oicsrRemoved'] * 100:.1f} | {r['oicsrSelection']} | "
                     f"{r['tpTop1'] * 100:.2f} at {r['tpRemoved'] * 100:.1f} | {(r['oicsrTop1'] - r['tpTop1']) * 100:+.2f} | "
                     f"{r['tpAsRunTop1'] * 100:.2f} at {r['tpAsRunRemoved'] * 100:.1f} |")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
