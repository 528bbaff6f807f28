"""oicsr checkpoints (docs/architecture-json.md §3): a safetensors file of the model's
state_dict under PyTorch names and layouts (F32), with the architecture, normalisation, data
set and class names in `__metadata__`."""
import json
from dataclasses import dataclass

import torch

from . import safetensors
from .architecture import Architecture

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
STATE_SUFFIXES = {
    "conv2d": ("weight", "bias"),
    "linear": ("weight", "bias"),
    "batchnorm": ("weight", "bias", "running_mean", "running_var"),
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    path: str
    tensors: dict
    metadata: dict
    architecture: Architecture

    @property
    def normalization(self):
        return json.loads(self.metadata["oicsr.normalization"])

    @property
    def class_names(self):
        return json.loads(self.metadata["oicsr.class_names"])

    @property
    def dataset(self):
        return self.metadata["oicsr.dataset"]

    @property
    def recipe(self):
        """The `oicsr.recipe` record (docs/architecture-json.md §4), or {} when there is none."""
        value = self.metadata.get("oicsr.recipe")
        return json.loads(value) if value else {}

    @property
    def pruning(self):
        """The pruning part of the recipe of a pruned checkpoint ({"kept": {group: [indices]}, ...}), or None."""
        return self.recipe.get("pruning")


def read(path):
    tensors, metadata = safetensors.read(path)
    for key in ("oicsr.architecture", "oicsr.normalization", "oicsr.dataset", "oicsr.class_names"):
        if key not in metadata:
            raise CheckpointError(f"{path}: not an oicsr checkpoint: metadata '{key}' is missing")
    try:
        architecture = Architecture.parse(metadata["oicsr.architecture"])
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    return Checkpoint(path, tensors, metadata, architecture)


def state_shapes(architecture):
    """{tensor name: shape} of every tensor the architecture owns, in graph order."""
    from .architecture import IMAGE
    shapes = dict(zip((l.name for l in architecture.layers), architecture.shapes()))
    shapes[IMAGE] = tuple(architecture.input)
    result = {}
    for layer in architecture.layers:
        cin = shapes[layer.inputs[0]][0]
        if layer.kind == "conv2d":
            result[layer.name + ".weight"] = (layer["out"], cin // layer["groups"], layer["kernel"], layer["kernel"])
        elif layer.kind == "linear":
            result[layer.name + ".weight"] = (layer["out"], cin)
        elif layer.kind == "batchnorm":
            for suffix in STATE_SUFFIXES["batchnorm"]:
                result[f"{layer.name}.{suffix}"] = (cin,)
        if layer.kind in ("conv2d", "linear") and layer["bias"]:
            result[layer.name + ".bias"] = (layer["out"],)
    return result


def write(path, architecture, state, normalization=None, dataset="unknown", class_names=None,
          regularizer="l2", lam=0.0, extra=None):
    """Writes the tensors the architecture owns, taken from `state` (a state_dict), as F32.

    Raises CheckpointError naming a missing tensor or a wrong shape (checked against
    `architecture.shapes()` through a freshly built interpreter)."""
    expected = state_shapes(architecture)
    tensors = {}
    for name in expected:
        if name not in state:
            raise CheckpointError(f"{path}: tensor '{name}' is missing from the model's state")
        tensor = state[name].detach().to("cpu", torch.float32)
        if tuple(tensor.shape) != expected[name]:
            raise CheckpointError(f"{path}: tensor '{name}' has shape {tuple(tensor.shape)}, "
                                  f"the architecture needs {expected[name]}")
        tensors[name] = tensor
    channels = architecture.input[0]
    normalization = normalization or {"mean": [0.0] * channels, "std": [1.0] * channels}
    if len(normalization["mean"]) != channels or len(normalization["std"]) != channels or min(normalization["std"]) <= 0:
        raise CheckpointError(f"{path}: normalization needs {channels} means and {channels} positive stds")
    class_names = class_names or [str(i) for i in range(architecture.classes)]
    if len(class_names) != architecture.classes:
        raise CheckpointError(f"{path}: {len(class_names)} class names for {architecture.classes} classes")
    metadata = {
        "format": "pt",
        "oicsr.architecture": architecture.to_json(),
        "oicsr.normalization": json.dumps({"mean": [float(m) for m in normalization["mean"]],
                                           "std": [float(s) for s in normalization["std"]]}),
        "oicsr.dataset": dataset,
        "oicsr.class_names": json.dumps([str(c) for c in class_names]),
        "oicsr.regularizer": str(regularizer),
        "oicsr.lambda": repr(float(lam)),
    }
    metadata.update(extra or {})
    safetensors.write(path, tensors, metadata)


def load_state(module, tensors, source="checkpoint"):
    """`module.load_state_dict(tensors, strict=True)`, filling BatchNorm's
    `num_batches_tracked` when absent; a mismatch is one message naming the tensors."""
    state = dict(tensors)
    own = module.state_dict()
    for name, value in own.items():
        if name.endswith(".num_batches_tracked") and name not in state:
            state[name] = torch.zeros_like(value)
    missing = [n for n in own if n not in state]
    unexpected = [n for n in state if n not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"the model needs {_few(missing)}, which the {source} lacks")
        if unexpected:
            parts.append(f"the {source} holds {_few(unexpected)}, which the model lacks")
        raise CheckpointError("; ".join(parts))
    for name, value in own.items():
        if tuple(state[name].shape) != tuple(value.shape):
            raise CheckpointError(f"tensor '{name}': the {source} has shape {tuple(state[name].shape)}, "
                                  f"the model expects {tuple(value.shape)}")
    module.load_state_dict(state, strict=True)


def _few(names, limit=5):
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
