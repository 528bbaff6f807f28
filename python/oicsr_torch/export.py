"""Exports a PyTorch CNN to an oicsr checkpoint (docs/architecture-json.md).

The model is traced (trace.py); every call is mapped to an oicsr layer kind by one table per
call type (`MODULES`, `FUNCTIONS`): a rule returns a layer, or says the call passes its input
through (`Alias`), or refuses with a reason. An op nobody maps is refused with one message
naming the node, its op and target, and its source line. The architecture is then checked by
shapes: every layer's output shape by the contract must equal what PyTorch computed.
"""
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from . import checkpoint as ckpt
from .architecture import IMAGE, Architecture, ArchitectureError, Layer, KINDS, REQUIRED
from .trace import Op, canonical, is_inplace_module, trace_eager, trace_fx

try:
    from torchvision.ops import StochasticDepth
except ImportError:  # torchvision is optional
    StochasticDepth = None


class ExportError(ValueError):
    """The model cannot be written as an oicsr architecture; the message says where and why."""


class Unsupported(Exception):
    """Raised by a rule: this call cannot be an oicsr layer, for `reason`."""


@dataclass
class Emit:
    kind: str
    fields: dict
    inputs: list          # Ops the layer reads, in the kind's order


@dataclass
class Alias:
    input: Op             # the call's output is this input, unchanged


def _square(value, what):
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise Unsupported(f"{what} {tuple(value)} is not square; oicsr takes one integer")
        value = value[0]
    return int(value)


def _bind(op, names, defaults=None):
    """The call's arguments by parameter name (positional, then keyword)."""
    bound = dict(defaults or {})
    bound.update(zip(names, op.args))
    bound.update(op.kwargs)
    return bound


def _is_map(x):
    return isinstance(x, Op) and x.shape is not None and len(x.shape) == 4


# ----------------------------------------------------------------------------------------------
# Modules


def _conv(m, x):
    if m.padding_mode != "zeros":
        raise Unsupported(f"padding_mode '{m.padding_mode}' (oicsr pads with zeros)")
    kernel = _square(m.kernel_size, "kernel_size")
    dilation = _square(m.dilation, "dilation")
    if m.padding == "valid":
        padding = 0
    elif m.padding == "same":
        if dilation * (kernel - 1) % 2:
            raise Unsupported("padding 'same' with an even kernel pads unevenly")
        padding = dilation * (kernel - 1) // 2
    else:
        padding = _square(m.padding, "padding")
    return Emit("conv2d", {"in": m.in_channels, "out": m.out_channels, "kernel": kernel,
                           "stride": _square(m.stride, "stride"), "padding": padding, "dilation": dilation,
                           "groups": m.groups, "bias": m.bias is not None}, [x])


def _batchnorm(m, x):
    if not m.affine or not m.track_running_stats:
        raise Unsupported("BatchNorm without affine parameters or running statistics")
    if m.momentum is None:
        raise Unsupported("BatchNorm with momentum None (a cumulative average)")
    return Emit("batchnorm", {"eps": float(m.eps), "momentum": float(m.momentum)}, [x])


def _pool(kind, kernel, stride, padding, dilation, ceil, x, count_pad=None):
    kernel = _square(kernel, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _square(stride, "stride")
    if _square(dilation, "dilation") != 1:
        raise Unsupported("pooling with dilation")
    fields = {"kernel": kernel, "stride": stride, "padding": _square(padding, "padding"), "ceil": bool(ceil)}
    if count_pad is not None:
        fields["count_pad"] = bool(count_pad)
    return Emit(kind, fields, [x])


def _adaptive(size, x):
    if isinstance(size, int):
        size = (size, size)
    size = [x.shape[2 + i] if s is None else int(s) for i, s in enumerate(size)]
    return Emit("adaptiveavgpool", {"size": size}, [x])


def _maxpool_module(m, x):
    if m.return_indices:
        raise Unsupported("max pooling that returns indices")
    return _pool("maxpool", m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, x)


def _avgpool_module(m, x):
    if m.divisor_override is not None:
        raise Unsupported("average pooling with divisor_override")
    return _pool("avgpool", m.kernel_size, m.stride, m.padding, 1, m.ceil_mode, x, m.count_include_pad)


def _flatten_module(m, x, op):
    if m.start_dim != 1 or m.end_dim not in (-1, 3):
        raise Unsupported(f"nn.Flatten({m.start_dim}, {m.end_dim}); oicsr flattens from dimension 1 to the end")
    return _flatten_by_shape(x, op)


def _stochastic_depth_module(m, x):
    if m.mode != "row":
        raise Unsupported(f"StochasticDepth mode '{m.mode}'; oicsr drops whole examples (mode 'row')")
    return Emit("stochasticdepth", {"p": float(m.p)}, [x])


def _activation(kind):
    return lambda m, x: Emit(kind, {}, [x])


MODULES = [
    (nn.Conv2d, _conv),
    (nn.BatchNorm2d, _batchnorm),
    (nn.SyncBatchNorm, _batchnorm),
    (nn.Linear, lambda m, x: Emit("linear", {"in": m.in_features, "out": m.out_features, "bias": m.bias is not None}, [x])),
    (nn.ReLU, _activation("relu")),
    (nn.ReLU6, _activation("relu6")),
    (nn.Sigmoid, _activation("sigmoid")),
    (nn.Hardsigmoid, _activation("hardsigmoid")),
    (nn.Hardswish, _activation("hardswish")),
    (nn.SiLU, _activation("silu")),
    (nn.MaxPool2d, _maxpool_module),
    (nn.AvgPool2d, _avgpool_module),
    (nn.AdaptiveAvgPool2d, lambda m, x: _adaptive(m.output_size, x)),
    (nn.Flatten, None),   # needs the op's shapes: handled in `_map_module`
    (nn.Dropout, lambda m, x: Emit("dropout", {"p": float(m.p)}, [x])),
    (nn.Identity, lambda m, x: Alias(x)),
]
if StochasticDepth is not None:
    MODULES.append((StochasticDepth, _stochastic_depth_module))


def module_rule(m):
    """The rule for module `m`: its class, or a subclass that keeps the class's forward."""
    for cls, rule in MODULES:
        if type(m) is cls or isinstance(m, cls) and type(m).forward is cls.forward:
            return cls, rule
    return None, None


def is_leaf(m):
    """Modules the tracer must not enter: those a rule maps."""
    return module_rule(m)[0] is not None


def _map_module(op):
    cls, rule = module_rule(op.module)
    if cls is None:
        raise Unsupported(f"no oicsr layer kind for {type(op.module).__name__}")
    inputs = [a for a in op.args if isinstance(a, Op)]
    if len(inputs) != 1 or len(op.args) != 1 or op.kwargs:
        raise Unsupported("a leaf module must be called with one tensor")
    if cls is nn.Flatten:
        return _flatten_module(op.module, inputs[0], op)
    return rule(op.module, inputs[0])


# ----------------------------------------------------------------------------------------------
# Functions and tensor methods (by canonical name; a method's tensor is its first argument)


def _unary(kind, names=("input", "inplace")):
    def rule(op):
        bound = _bind(op, names)
        return Emit(kind, {}, [bound["input"]])
    return rule


def _hardtanh(op):
    bound = _bind(op, ("input", "min_val", "max_val", "inplace"), {"min_val": -1.0, "max_val": 1.0})
    if (bound["min_val"], bound["max_val"]) != (0.0, 6.0):
        raise Unsupported("hardtanh other than relu6 (0, 6)")
    return Emit("relu6", {}, [bound["input"]])


def _binary(kind):
    def rule(op):
        bound = _bind(op, ("input", "other"), {"alpha": 1})
        a, b = bound["input"], bound["other"]
        if not (isinstance(a, Op) and isinstance(b, Op)) or a.op == "constant" or b.op == "constant":
            raise Unsupported(f"{kind} of a tensor and a constant; oicsr's {kind} takes two layer outputs")
        if bound["alpha"] != 1:
            raise Unsupported("add with alpha")
        if kind == "add":
            if a.shape != b.shape:
                raise Unsupported(f"add of shapes {a.shape} and {b.shape}; oicsr adds tensors of one shape")
            return Emit("add", {}, [a, b])
        # mul: a map, then its gate (C×1×1 or the map's size), whatever order the code used.
        if not (_is_map(a) and _is_map(b)):
            raise Unsupported("mul of tensors that are not both maps")
        if b.shape[2:] != (1, 1) and a.shape[2:] == (1, 1):
            a, b = b, a
        if a.shape[:2] != b.shape[:2] or b.shape[2:] not in ((1, 1), a.shape[2:]):
            raise Unsupported(f"mul of shapes {a.shape} and {b.shape}; oicsr multiplies a map by a "
                              "per-channel gate (squeeze-excitation)")
        return Emit("mul", {}, [a, b])
    return rule


def _cat(op):
    bound = _bind(op, ("tensors", "dim"), {"dim": 0})
    tensors, dim = list(bound["tensors"]), bound["dim"]
    if not all(_is_map(t) for t in tensors):
        raise Unsupported("concatenation of tensors that are not all maps")
    if dim not in (1, -3):
        raise Unsupported(f"concatenation along dimension {dim}; oicsr concatenates channels (dimension 1)")
    if len(tensors) == 1:
        return Alias(tensors[0])
    return Emit("concat", {}, tensors)


def _flatten_by_shape(x, op):
    """flatten, view and reshape: a map to (N, C·H·W) is `flatten`; a shape kept is no layer."""
    if not isinstance(x, Op) or x.shape is None or op.shape is None:
        raise Unsupported("reshaping something that is not a traced tensor")
    if op.shape == x.shape:
        return Alias(x)
    if len(x.shape) == 4 and op.shape == (x.shape[0], x.shape[1] * x.shape[2] * x.shape[3]):
        return Emit("flatten", {}, [x])
    if len(x.shape) == 2 and len(op.shape) == 4 and op.shape[:2] == x.shape and op.shape[2:] == (1, 1):
        raise Unsupported("reshaping a vector back into a map")
    raise Unsupported(f"reshape from {x.shape} to {op.shape}; oicsr only flattens a map to (N, C*H*W)")


def _reshape(op):
    return _flatten_by_shape(op.args[0], op)


def _mean(op):
    bound = _bind(op, ("input", "dim", "keepdim", "dtype"), {"keepdim": False, "dim": None})
    x, dim = bound["input"], bound["dim"]
    if not _is_map(x) or dim is None:
        raise Unsupported("a mean other than over the height and width of a map")
    dims = {d % 4 for d in (dim if isinstance(dim, (tuple, list)) else [dim])}
    if dims != {2, 3}:
        raise Unsupported(f"a mean over dimensions {dim}; oicsr averages over height and width (2, 3)")
    if bound["keepdim"]:
        return Emit("adaptiveavgpool", {"size": [1, 1]}, [x])
    return Emit("globalavgpool", {}, [x])


def _max_pool(op):
    b = _bind(op, ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
              {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
    if b["return_indices"]:
        raise Unsupported("max pooling that returns indices")
    return _pool("maxpool", b["kernel_size"], b["stride"], b["padding"], b["dilation"], b["ceil_mode"], b["input"])


def _avg_pool(op):
    b = _bind(op, ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
              {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True, "divisor_override": None})
    if b["divisor_override"] is not None:
        raise Unsupported("average pooling with divisor_override")
    return _pool("avgpool", b["kernel_size"], b["stride"], b["padding"], 1, b["ceil_mode"], b["input"],
                 b["count_include_pad"])


def _dropout(op):
    b = _bind(op, ("input", "p", "training", "inplace"), {"p": 0.5})
    return Emit("dropout", {"p": float(b["p"])}, [b["input"]])


def _stochastic_depth(op):
    b = _bind(op, ("input", "p", "mode", "training"))
    if b["mode"] != "row":
        raise Unsupported(f"stochastic_depth mode '{b['mode']}'; oicsr drops whole examples (mode 'row')")
    return Emit("stochasticdepth", {"p": float(b["p"])}, [b["input"]])


FUNCTIONS = {
    "relu": _unary("relu"), "relu_": _unary("relu"), "relu6": _unary("relu6"), "hardtanh": _hardtanh,
    "sigmoid": _unary("sigmoid"), "sigmoid_": _unary("sigmoid"), "hardsigmoid": _unary("hardsigmoid"),
    "hardswish": _unary("hardswish"), "silu": _unary("silu"),
    "add": _binary("add"), "add_": _binary("add"), "mul": _binary("mul"), "mul_": _binary("mul"),
    "cat": _cat, "concat": _cat,
    "flatten": _reshape, "view": _reshape, "reshape": _reshape,
    "mean": _mean,
    "adaptive_avg_pool2d": lambda op: _adaptive(_bind(op, ("input", "output_size"))["output_size"], op.args[0]),
    "max_pool2d": _max_pool, "max_pool2d_with_indices": _max_pool, "avg_pool2d": _avg_pool,
    "dropout": _dropout, "stochastic_depth": _stochastic_depth,
    "contiguous": lambda op: Alias(op.args[0]), "clone": lambda op: Alias(op.args[0]),
}
# Calls that change their first argument in place (so later readers of it see the result).
INPLACE = {"relu_", "sigmoid_", "add_", "mul_"}


def _is_inplace(op, name):
    if op.op == "module":
        return is_inplace_module(op.module)
    if name in INPLACE:
        return True
    if op.kwargs.get("inplace"):
        return True
    position = {"relu": 1, "relu6": 1, "hardswish": 1, "hardsigmoid": 1, "silu": 1, "hardtanh": 3, "dropout": 3}
    at = position.get(name)
    return op.op == "function" and at is not None and len(op.args) > at and op.args[at] is True


# ----------------------------------------------------------------------------------------------
# Graph → architecture


@dataclass
class Traced:
    """An exported model: the architecture, its tensors by state_dict name, and each layer's
    output shape as PyTorch computed it (one example)."""
    architecture: Architecture
    tensors: dict
    shapes: dict
    method: str           # "fx" or "eager"


def _refusal(op, reason):
    return ExportError(f"cannot export node '{op.name}' ({op.describe()}) at {op.source}: {reason}")


def trace(model, input_shape, name=None, method="auto"):
    """Traces `model` (a module, or a DDP/DataParallel wrapper) at one input of
    `input_shape` (C, H, W) and returns a `Traced`. `method`: "fx", "eager" or "auto" (fx,
    and one recorded eager run where fx fails). Raises ExportError naming the node, its op
    and source line for a call that has no oicsr kind."""
    model = unwrap(model)
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3:
        raise ExportError(f"input shape {input_shape}: expected (channels, height, width)")
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        example = torch.randn((2,) + input_shape, generator=torch.Generator().manual_seed(0))
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        example = example.to(device)
        used = method
        if method in ("auto", "fx"):
            try:
                ops = trace_fx(model, example, is_leaf)
                used = "fx"
            except Exception as error:  # fx raises many kinds: TraceError, TypeError, ...
                if method == "fx":
                    raise ExportError(f"torch.fx cannot trace the model: {type(error).__name__}: {error}") from None
                warnings.warn(f"torch.fx cannot trace the model ({type(error).__name__}: {_first_line(error)}); "
                              "recorded one run at the example input instead, so control flow follows that input",
                              stacklevel=2)
                used = "eager"
        if used == "eager":
            ops = trace_eager(model, example, is_leaf)
        return _build(model, ops, name or type(model).__name__.lower(), input_shape, used)
    finally:
        for m, training in modes.items():   # each module's own mode: some may be frozen in eval
            m.training = training


def _first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else ""


def unwrap(model):
    while isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        model = model.module
    return model


def _build(model, ops, name, input_shape, method):
    reserved = {n for n, _ in model.named_modules()} | {IMAGE}
    used_names = set()
    layer_of = {}        # Op -> layer name (or IMAGE), following aliases
    version = {}         # Op -> the Op whose output replaced it in place
    layers, shapes, owners = [], {}, {}

    def current(a):
        while a in version:
            a = version[a]
        return a

    def layer_name(op, kind):
        if op.op == "module":
            if op.target not in used_names:
                return op.target
            if any(True for _ in op.module.parameters(recurse=False)) or any(True for _ in op.module.buffers(recurse=False)):
                raise _refusal(op, f"module '{op.target}' is called more than once (its weights are shared); "
                                   "oicsr gives every layer tensors of its own")
            base = op.target
        else:
            base = f"{op.scope}:{kind}" if op.scope else kind
            if base not in reserved and base not in used_names:
                return base
        k = 1
        while f"{base}:{k}" in used_names or f"{base}:{k}" in reserved:
            k += 1
        return f"{base}:{k}"

    # In-place calls first: a later reader of a value changed in place reads the call's result.
    for op in ops:
        op.args, op.kwargs = _resolve(op.args, current), _resolve(op.kwargs, current)
        if op.op in ("module", "function", "method") and _is_inplace(op, canonical(op)):
            first = next((a for a in op.args if isinstance(a, Op)), None)
            if first is not None:
                version[first] = op
    # Only what the output depends on becomes a layer (data-dependent tests, asserts and
    # other dead ends are left out).
    outputs = [op for op in ops if op.op == "output"]
    if len(outputs) != 1:
        raise ExportError("the traced graph has no single output")
    needed, stack = set(), [outputs[0]]
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        stack.extend(_ops_in((op.args, op.kwargs)))

    output = None
    for op in ops:
        if op not in needed:
            continue
        if op.op == "input":
            if layer_of:
                raise _refusal(op, "the model takes more than one input")
            layer_of[op] = IMAGE
            if op.shape is not None and tuple(op.shape[1:]) != input_shape:
                raise _refusal(op, f"input shape {op.shape}")
            continue
        if op.op == "constant":
            continue   # refused where a layer reads it
        if op.op == "output":
            result = op.args[0]
            if not isinstance(result, Op):
                raise _refusal(op, "the model must return one tensor of class scores (found a "
                                   f"{type(result).__name__})")
            output = result
            break
        if op.function is None and op.multiple:
            raise _refusal(op, "returns several tensors; an oicsr layer returns one")
        if op.shape is None:
            if op.op == "module":
                raise _refusal(op, "the module does not return one tensor")
            continue   # sizes, shapes and other non-tensor values: no layer
        if op.function is not None:
            cls, call_site = op.function
            raise ExportError(f"cannot export node '{op.name}' ({op.describe()}) inside the custom autograd Function "
                              f"'{cls.__name__}' applied at {call_site}: its backward is its own, oicsr has no layer kind for it")
        function = canonical(op)
        try:
            if op.op == "module":
                result = _map_module(op)
            elif function in FUNCTIONS:
                result = FUNCTIONS[function](op)
            else:
                raise Unsupported("no oicsr layer kind for this op")
        except Unsupported as why:
            raise _refusal(op, str(why)) from None
        inputs = [result.input] if isinstance(result, Alias) else result.inputs
        for i in inputs:
            if not isinstance(i, Op) or i not in layer_of:
                what = f"'{i.target}'" if isinstance(i, Op) and i.op == "constant" else "a value"
                raise _refusal(op, f"reads {what} that is not computed from the model's input "
                                   "(a parameter, buffer or constant used directly)")
        if isinstance(result, Alias):
            layer_of[op] = layer_of[result.input]
            continue
        if op.shape[0] != 2:
            raise _refusal(op, f"the output {op.shape} does not keep the batch dimension")
        name_ = layer_name(op, result.kind)
        used_names.add(name_)
        layer_of[op] = name_
        fields = dict(result.fields)
        declared = fields.pop("in", None)
        layers.append(Layer(name_, result.kind, [layer_of[i] for i in result.inputs],
                            _with_defaults(result.kind, fields), explicit_inputs=True, declared_in=declared))
        shapes[name_] = tuple(op.shape[1:])
        owners[name_] = op
    if output is None or output not in layer_of or layer_of[output] == IMAGE:
        raise ExportError("the model's output is not computed by any layer")

    layers = _reachable(layers, layer_of[output])
    architecture = Architecture(name, list(input_shape), 0, layers)
    last = shapes[layers[-1].name]
    if len(last) != 1:
        raise _refusal(owners[layers[-1].name], f"the model returns {last}, not a vector of class scores")
    architecture.classes = last[0]
    try:
        contract = dict(zip((l.name for l in layers), architecture.shapes()))
    except ArchitectureError as error:
        raise _refusal(owners[error.layer], str(error)) if error.layer in owners else ExportError(str(error)) from None
    for layer in layers:
        if contract[layer.name] != shapes[layer.name]:
            raise _refusal(owners[layer.name], f"the contract gives {contract[layer.name]}, PyTorch computed "
                                               f"{shapes[layer.name]}")
    tensors = {}
    for layer in layers:
        if layer.kind in ckpt.STATE_SUFFIXES:
            module = owners[layer.name].module
            for suffix in ckpt.STATE_SUFFIXES[layer.kind]:
                value = getattr(module, suffix, None)
                if value is not None:
                    tensors[f"{layer.name}.{suffix}"] = value.detach()
    return Traced(architecture, tensors, {l.name: shapes[l.name] for l in layers}, method)


def _resolve(value, current):
    if isinstance(value, Op):
        return current(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve(v, current) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, current) for k, v in value.items()}
    return value


def _ops_in(value):
    if isinstance(value, Op):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _ops_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ops_in(v)


def _with_defaults(kind, fields):
    values = {}
    for key, default in KINDS[kind].fields.items():
        values[key] = fields.get(key, None if default is REQUIRED else default)
    return values


def _reachable(layers, output):
    """The layers the output depends on, in order; later layers that feed nothing are dropped."""
    needed = {output}
    kept = []
    for layer in reversed(layers):
        if layer.name in needed:
            kept.append(layer)
            needed.update(layer.inputs)
    kept.reverse()
    previous = IMAGE
    for layer in kept:
        layer.explicit_inputs = layer.inputs != [previous]
        previous = layer.name
    return kept


# ----------------------------------------------------------------------------------------------
# Writing


def export(model, input_shape, path, name=None, normalization=None, dataset="unknown", class_names=None,
           method="auto"):
    """Traces `model` and writes an oicsr checkpoint to `path` (atomically; nothing is
    written when the model is refused). Returns the `Traced` model.

    `normalization`: {"mean": [...], "std": [...]} per input channel (default 0 and 1);
    `class_names`: one per class (default "0".."N-1")."""
    traced = trace(model, input_shape, name=name, method=method)
    ckpt.write(path, traced.architecture, traced.tensors, normalization=normalization, dataset=dataset,
               class_names=class_names)
    return traced
