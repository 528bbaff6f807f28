"""Pruning by slicing tensors, per the channel groups of groups.py: a plan (kept channels
per group) becomes a smaller architecture and its tensors. Also zeroing the pruned channels
in the dense tensors, the equivalent the physically pruned model must match.

`kept` maps group names to the kept channel indices of the original group (the form of the
`pruning` part of a pruned checkpoint's `oicsr.recipe` metadata: {"kept": {group: [indices]}}).
"""
import copy

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
