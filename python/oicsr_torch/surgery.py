"""Pruning by slicing tensors, per the channel groups of groups.py: a plan (kept channels
per group) becomes a smaller architecture and its tensors. Also zeroing the pruned channels
in the dense tensors, the equivalent the physically pruned model must match.

`kept` maps group names to the kept channel indices of the original group (the form of the
`pruning` part of a pruned checkpoint's `oicsr.recipe` metadata: {"kept": {group: [indices]}}).
"""
import copy
import math

import torch

from .architecture import Architecture
from .groups import ChannelGroups


def _plan(architecture, kept):
    groups = ChannelGroups(architecture, coupled=True)
    by_name = groups.by_name()
    plan = {}
    for name, indices in kept.items():
        group = by_name.get(name)
        if group is None:
            raise ValueError(f"pruning plan: no prunable group '{name}' in '{architecture.name}'")
        chosen = sorted(int(i) for i in indices)
        if not chosen or chosen[0] < 0 or chosen[-1] >= group.width or len(set(chosen)) != len(chosen):
            raise ValueError(f"pruning plan: group '{name}' keeps {chosen}; expected 1 to {group.width} distinct "
                             f"indices below {group.width}")
        plan[group.id] = chosen
    return groups, plan


def prune(architecture, tensors, kept):
    """(smaller Architecture, its tensors) keeping channels `kept` ({group: [indices]})."""
    groups, plan = _plan(architecture, kept)
    out_tensors, layers = {}, []
    for layer in architecture.layers:
        layer = copy.deepcopy(layer)
        source = layer.inputs[0]
        out_sel = torch.tensor(groups.kept_channels(layer.name, plan), dtype=torch.long)
        in_sel = torch.tensor(groups.kept_channels(source, plan), dtype=torch.long)
        name = layer.name

        def take(suffix, *index):
            key = f"{name}.{suffix}"
            if key in tensors:
                value = tensors[key]
                for dim, sel in enumerate(index):
                    if sel is not None:
                        value = value.index_select(dim, sel)
                out_tensors[key] = value.clone()

        if layer.kind == "conv2d":
            depthwise = layer["groups"] > 1 and layer["groups"] == layer["out"] and layer["groups"] == _width(groups, source)
            if depthwise:
                take("weight", out_sel)
                layer.fields["groups"] = len(out_sel)
            elif layer["groups"] > 1:
                take("weight")
            else:
                take("weight", out_sel, in_sel)
            take("bias", out_sel)
            layer.fields["out"] = len(out_sel)
        elif layer.kind == "linear":
            f = groups.features[source]
            columns = (in_sel[:, None] * f + torch.arange(f)[None, :]).reshape(-1)
            take("weight", out_sel, columns)
            take("bias", out_sel)
            layer.fields["out"] = len(out_sel)
        elif layer.kind == "batchnorm":
            for suffix in ("weight", "bias", "running_mean", "running_var"):
                take(suffix, out_sel)
            if f"{name}.num_batches_tracked" in tensors:
                out_tensors[f"{name}.num_batches_tracked"] = tensors[f"{name}.num_batches_tracked"].clone()
        if layer.declared_in is not None:
            layer.declared_in = len(in_sel) * (groups.features[source] if layer.kind == "linear" else 1)
        layers.append(layer)
    pruned = Architecture(architecture.name, list(architecture.input), architecture.classes, layers)
    pruned.shapes()
    return pruned, out_tensors


def _width(groups, layer):
    return sum(width for _, _, width in groups.layout(layer))


def zero_pruned(architecture, tensors, kept):
    """A copy of `tensors` with every trainable entry of the pruned channels set to zero:
    producer rows and biases, BatchNorm γ and β, depthwise filters and consumer input slices.
    With the consumer slices zero, the dense model computes what the pruned one does."""
    groups, plan = _plan(architecture, kept)
    out = {k: v.clone() for k, v in tensors.items()}
    for group in groups.groups:
        if group.id not in plan:
            continue
        gone = torch.tensor(sorted(set(range(group.width)) - set(plan[group.id])), dtype=torch.long)
        if len(gone) == 0:
            continue
        for producer in group.producers:
            for suffix in ("weight", "bias"):
                if f"{producer}.{suffix}" in out:
                    out[f"{producer}.{suffix}"][gone] = 0
        for s in group.batchnorms + group.depthwise:
            for suffix in ("weight", "bias"):
                if f"{s.layer}.{suffix}" in out:
                    out[f"{s.layer}.{suffix}"][s.offset + gone] = 0
        for s in group.consumers:
            weight = out[f"{s.layer}.weight"]
            columns = ((s.offset + gone)[:, None] * s.features + torch.arange(s.features)[None, :]).reshape(-1)
            weight[:, columns] = 0
    return out


def _moments(architecture, tensors):
    """Each layer's output moments {name: (mean, variance)} (float64, NaN where not known),
    from the weights alone, written independently of the binary's LayerRule.moments: a
    BatchNorm gives N(β, γ²), a ReLU the rectified normal, a sum adds, pools and dropout keep,
    a flatten repeats per feature, a concatenation joins; anything else is not known."""
    shapes = dict(zip((layer.name for layer in architecture.layers), architecture.shapes()))
    shapes["input"] = tuple(architecture.input)

    def unknown(name):
        n = shapes[name][0]
        return torch.full((n,), float("nan"), dtype=torch.float64), torch.full((n,), float("nan"), dtype=torch.float64)

    moments = {"input": unknown("input")}
    for layer in architecture.layers:
        ins = [moments[p] for p in layer.inputs]
        if layer.kind == "batchnorm":
            out = (tensors[f"{layer.name}.bias"].double(), tensors[f"{layer.name}.weight"].double() ** 2)
        elif layer.kind == "relu":
            m, v = ins[0]
            s = v.clamp_min(0).sqrt()
            a = m / s
            cdf, pdf = torch.special.ndtr(a), torch.exp(-a * a / 2) / math.sqrt(2 * math.pi)
            first = torch.where(s > 0, m * cdf + s * pdf, m.clamp_min(0))
            second = torch.where(s > 0, (m * m + v) * cdf + m * s * pdf, m.clamp_min(0) ** 2)
            out = (first, (second - first * first).clamp_min(0))
        elif layer.kind in ("dropout", "stochasticdepth", "maxpool", "avgpool", "adaptiveavgpool", "globalavgpool"):
            out = ins[0]
        elif layer.kind == "flatten":
            source = shapes[layer.inputs[0]]
            pixels = source[1] * source[2] if len(source) == 3 else 1
            out = (ins[0][0].repeat_interleave(pixels), ins[0][1].repeat_interleave(pixels))
        elif layer.kind == "add":
            out = (ins[0][0] + ins[1][0], ins[0][1] + ins[1][1])
        elif layer.kind == "concat":
            out = (torch.cat([m for m, _ in ins]), torch.cat([v for _, v in ins]))
        else:
            out = unknown(layer.name)
        moments[layer.name] = out
    return moments


def compensate(architecture, tensors, kept, into):
    """A copy of `into` (the dense tensors, or those of `zero_pruned`) in which each layer that
    reads a pruned channel takes the channel's expected value (`_moments` of `tensors`, the
    dense model's) as a constant in its kept outputs: W·E[x] added to its bias, or, without a
    bias and read by a BatchNorm alone, taken from that BatchNorm's running mean. With
    `zero_pruned`'s tensors, the dense model computes what a model pruned with
    `oicsr prune --compensate on` does."""
    groups, plan = _plan(architecture, kept)
    moments = _moments(architecture, tensors)
    layers = architecture.by_name()
    readers = {layer.name: [r for r in architecture.layers if layer.name in r.inputs] for layer in architecture.layers}
    shifts = {}
    for group in groups.groups:
        gone = sorted(set(range(group.width)) - set(plan.get(group.id, range(group.width))))
        for s in group.consumers:
            layer = layers[s.layer]
            mean = moments[layer.inputs[0]][0]
            weight = tensors[f"{s.layer}.weight"].double()
            shift = shifts.setdefault(s.layer, torch.zeros(weight.shape[0], dtype=torch.float64))
            for c in gone:
                for feature in range((s.offset + c) * s.features, (s.offset + c + 1) * s.features):
                    m = mean[feature].item()
                    if m != m or m == 0:
                        continue
                    column = weight[:, feature] if layer.kind == "linear" else weight[:, feature].sum(dim=(1, 2))
                    shift += column * m
    out = {k: v.clone() for k, v in into.items()}
    for name, shift in shifts.items():
        # A pruned output channel stays zero.
        outputs = torch.tensor(groups.kept_channels(name, plan), dtype=torch.long)
        shift = torch.zeros_like(shift).index_copy(0, outputs, shift[outputs])
        if f"{name}.bias" in out:
            out[f"{name}.bias"] += shift.to(out[f"{name}.bias"].dtype)
        elif len(readers[name]) == 1 and readers[name][0].kind == "batchnorm":
            key = f"{readers[name][0].name}.running_mean"
            out[key] -= shift.to(out[key].dtype)
    return out
