"""An nn.Module built from an architecture JSON: an independent PyTorch reading of
docs/architecture-json.md, written from the contract alone (not from the exporter).

Layers that own tensors (conv2d, batchnorm, linear) are registered under their layer names,
so the module's `state_dict` has exactly a checkpoint's names (`layer1.0.conv1.weight`).
"""
import torch
import torch.nn.functional as F
from torch import nn

from . import checkpoint as ckpt
from .architecture import IMAGE, Architecture

ACTIVATIONS = {
    "relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid,
    "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "silu": F.silu,
}


class Interpreted(nn.Module):
    """Runs the layers of `architecture` in order. Input NCHW, output (N, classes)."""

    def __init__(self, architecture):
        super().__init__()
        if not isinstance(architecture, Architecture):
            architecture = Architecture.parse(architecture)
        self.architecture = architecture
        shapes = dict(zip((l.name for l in architecture.layers), architecture.shapes()))
        shapes[IMAGE] = tuple(architecture.input)
        for layer in architecture.layers:
            cin = shapes[layer.inputs[0]][0]
            if layer.kind == "conv2d":
                module = nn.Conv2d(cin, layer["out"], layer["kernel"], layer["stride"], layer["padding"],
                                   layer["dilation"], layer["groups"], layer["bias"])
            elif layer.kind == "linear":
                module = nn.Linear(cin, layer["out"], layer["bias"])
            elif layer.kind == "batchnorm":
                module = nn.BatchNorm2d(cin, eps=layer["eps"], momentum=layer["momentum"])
            else:
                continue
            self._place(layer.name, module)
        # The last use of each output, so intermediate results can be freed early.
        self._last_use = {}
        for i, layer in enumerate(architecture.layers):
            for producer in layer.inputs:
                self._last_use[producer] = i

    def _place(self, name, module):
        parent = self
        *path, leaf = name.split(".")
        for part in path:
            if part not in parent._modules:
                parent.add_module(part, nn.Module())
            parent = parent._modules[part]
        parent.add_module(leaf, module)

    def forward(self, x):
        values = {IMAGE: x}
        out = x
        for i, layer in enumerate(self.architecture.layers):
            args = [values[p] for p in layer.inputs]
            out = self._run(layer, args)
            values[layer.name] = out
            for producer in set(layer.inputs):
                if self._last_use[producer] == i:
                    del values[producer]
        return out

    def _run(self, layer, args):
        x, kind = args[0], layer.kind
        if kind in ("conv2d", "linear", "batchnorm"):
            return self.get_submodule(layer.name)(x)
        if kind in ACTIVATIONS:
            return ACTIVATIONS[kind](x)
        if kind == "dropout":
            return F.dropout(x, layer["p"], self.training)
        if kind == "stochasticdepth":
            # torchvision's StochasticDepth, mode "row": each example kept with 1 - p, scaled.
            p = layer["p"]
            if not self.training or p == 0:
                return x
            keep = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(1 - p)
            return x * keep / (1 - p)
        if kind == "maxpool":
            return F.max_pool2d(x, layer["kernel"], layer["stride"] or layer["kernel"], layer["padding"],
                                ceil_mode=layer["ceil"])
        if kind == "avgpool":
            return F.avg_pool2d(x, layer["kernel"], layer["stride"] or layer["kernel"], layer["padding"],
                                ceil_mode=layer["ceil"], count_include_pad=layer["count_pad"])
        if kind == "adaptiveavgpool":
            return F.adaptive_avg_pool2d(x, tuple(layer["size"]))
        if kind == "globalavgpool":
            return x.mean((2, 3))
        if kind == "flatten":
            return x.flatten(1)
        if kind == "add":
            return x + args[1]
        if kind == "mul":
            return x * args[1]
        if kind == "concat":
            return torch.cat(args, 1)
        raise AssertionError(kind)


def interpret(architecture, tensors=None):
    """The module for `architecture`, with `tensors` ({state_dict name: tensor}) loaded
    strictly when given (`num_batches_tracked` may be absent)."""
    module = Interpreted(architecture)
    if tensors is not None:
        ckpt.load_state(module, tensors)
    return module


def from_checkpoint(path):
    """(module in eval mode, checkpoint metadata) for an oicsr checkpoint."""
    checkpoint = ckpt.read(path)
    module = interpret(checkpoint.architecture, checkpoint.tensors)
    return module.eval(), checkpoint
