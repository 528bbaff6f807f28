"""Loads an oicsr checkpoint (pruned or not) into the user's own model class.

Every Conv2d, BatchNorm2d and Linear named in the checkpoint's architecture is resized in
place to the checkpoint's widths (a depthwise convolution's groups follow its width); every
other hyperparameter stays as the model has it. The tensors are then loaded strictly, and one
forward pass at the architecture's input size is checked against the interpreter's reading
of the checkpoint.
"""
import torch
from torch import nn

from . import checkpoint as ckpt
from .architecture import IMAGE
from .export import unwrap
from .interpret import interpret

MODULE_OF_KIND = {"conv2d": nn.Conv2d, "batchnorm": nn.modules.batchnorm._BatchNorm, "linear": nn.Linear}


class LoadError(ValueError):
    """A checkpoint that does not fit the model; the message names the layer, expected and found."""


def resize(model, architecture):
    """Resizes `model`'s layers to `architecture`'s widths, in place."""
    model = unwrap(model)
    shapes = dict(zip((l.name for l in architecture.layers), architecture.shapes()))
    shapes[IMAGE] = tuple(architecture.input)
    for layer in architecture.layers:
        if layer.kind not in MODULE_OF_KIND:
            continue
        try:
            m = model.get_submodule(layer.name)
        except AttributeError:
            raise LoadError(f"layer '{layer.name}': the checkpoint has a {layer.kind} here, the model has no module "
                            f"of that name") from None
        if not isinstance(m, MODULE_OF_KIND[layer.kind]):
            raise LoadError(f"layer '{layer.name}': expected a {MODULE_OF_KIND[layer.kind].__name__} (the checkpoint's "
                            f"{layer.kind}), found {type(m).__name__}")
        cin = shapes[layer.inputs[0]][0]

        def same(what, expected, found):
            if expected != found:
                raise LoadError(f"layer '{layer.name}': {what}: expected {expected} (checkpoint), found {found} (model)")

        def parameter(shape, like):
            return nn.Parameter(torch.empty(shape, dtype=like.dtype, device=like.device), requires_grad=like.requires_grad)

        if layer.kind == "conv2d":
            same("kernel", (layer["kernel"],) * 2, tuple(m.kernel_size))
            same("stride", (layer["stride"],) * 2, tuple(m.stride))
            same("dilation", (layer["dilation"],) * 2, tuple(m.dilation))
            if not isinstance(m.padding, str):
                same("padding", (layer["padding"],) * 2, tuple(m.padding))
            same("bias", layer["bias"], m.bias is not None)
            depthwise = m.groups > 1 and m.groups == m.in_channels == m.out_channels
            groups = cin if depthwise else layer["groups"]
            if depthwise and layer["groups"] != cin:
                raise LoadError(f"layer '{layer.name}': the model's depthwise convolution is grouped by "
                                f"{layer['groups']} in the checkpoint, not depthwise")
            if not depthwise:
                same("groups", layer["groups"], m.groups)
            m.in_channels, m.out_channels, m.groups = cin, layer["out"], groups
            m.weight = parameter((layer["out"], cin // groups) + tuple(m.kernel_size), m.weight)
            if m.bias is not None:
                m.bias = parameter((layer["out"],), m.bias)
        elif layer.kind == "linear":
            same("bias", layer["bias"], m.bias is not None)
            m.in_features, m.out_features = cin, layer["out"]
            m.weight = parameter((layer["out"], cin), m.weight)
            if m.bias is not None:
                m.bias = parameter((layer["out"],), m.bias)
        else:
            if not (m.affine and m.track_running_stats):
                raise LoadError(f"layer '{layer.name}': the model's BatchNorm lacks affine parameters or running statistics")
            m.num_features = cin
            m.weight = parameter((cin,), m.weight)
            m.bias = parameter((cin,), m.bias)
            m.running_mean = torch.zeros(cin, dtype=m.running_mean.dtype, device=m.running_mean.device)
            m.running_var = torch.ones(cin, dtype=m.running_var.dtype, device=m.running_var.device)
    return model


def load(model, path, verify=True):
    """Loads checkpoint `path` into `model` (resized to its widths) and returns the model.
    Without a model (None), returns the interpreter's module for the checkpoint.

    `verify`: run one forward pass at the architecture's input size and compare it with the
    interpreter's; a difference means the model's code is not the graph the checkpoint
    describes."""
    checkpoint = ckpt.read(path)
    architecture = checkpoint.architecture
    if model is None:
        return interpret(architecture, checkpoint.tensors).eval()
    try:
        resize(model, architecture)
    except LoadError as error:
        raise LoadError(f"{path}: {error}") from None
    bare = unwrap(model)
    try:
        ckpt.load_state(bare, checkpoint.tensors, source=f"checkpoint {path}")
    except ckpt.CheckpointError as error:
        raise LoadError(f"{path}: {error}") from None
    modes = {m: m.training for m in bare.modules()}
    bare.eval()
    try:
        device = next((p.device for p in bare.parameters()), torch.device("cpu"))
        x = torch.randn((2,) + tuple(architecture.input), generator=torch.Generator().manual_seed(0)).to(device)
        with torch.no_grad():
            try:
                y = bare(x)
            except Exception as error:
                raise LoadError(f"{path}: the model's forward pass fails at the checkpoint's widths: "
                                f"{type(error).__name__}: {error}") from None
            if not isinstance(y, torch.Tensor) or tuple(y.shape) != (2, architecture.classes):
                found = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
                raise LoadError(f"{path}: the model returns {found}, expected (2, {architecture.classes}) class scores")
            if verify:
                reference = interpret(architecture, checkpoint.tensors).eval().to(device)(x)
                gap = (y - reference).abs().max().item()
                scale = max(reference.abs().max().item(), 1e-6)
                if gap > 1e-3 * scale + 1e-5:
                    raise LoadError(f"{path}: the model's logits differ from the checkpoint's architecture by {gap:.3g} "
                                    f"(logits up to {scale:.3g}): is the model the one the checkpoint was exported from?")
    finally:
        for m, training in modes.items():
            m.training = training
    return model
