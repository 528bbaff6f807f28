"""Records a model's forward pass as a list of `Op`s, each with its output shape and the
source line it came from.

`trace_fx` uses torch.fx (symbolic, with stack traces recorded), then runs the graph once to
learn every node's shape. When fx fails (e.g. control flow that depends on a tensor's
value), `trace_eager` records one real run at the example input instead: module hooks mark
leaf modules, and a TorchFunctionMode sees every torch function and tensor method called
outside them. Both give the same `Op` form, so one mapper (export.py) reads either.
"""
import builtins
import operator
import os
import sys
import traceback
from dataclasses import dataclass, field

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp
from torch.overrides import TorchFunctionMode

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_OWN_DIR = os.path.dirname(__file__) + os.sep


@dataclass(eq=False)
class Op:
    """One call in a traced forward pass.

    `op`: "input", "module", "function", "method", "constant" (a parameter, buffer or other
    tensor not computed from the input) or "output". `target`: the module's qualified name,
    the function object, or the method name. `args`/`kwargs` hold other Ops where the
    call read a traced value. `shape`: the output shape when it is a tensor, else None."""
    name: str
    op: str
    target: object
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    shape: object = None
    source: str = "?"
    scope: str = ""
    module: object = None
    function: object = None   # (custom autograd Function class, apply's source) it ran inside
    multiple: bool = False    # returns several tensors (a tuple or list)

    def describe(self):
        """`op target` as in an fx graph: "call_function torch.fft.fft2"."""
        if self.op == "module":
            return f"call_module {self.target} ({type(self.module).__module__}.{type(self.module).__name__})"
        if self.op == "method":
            return f"call_method {self.target}"
        if self.op == "function":
            return f"call_function {function_name(self.target)}"
        if self.op == "constant":
            return f"get_attr {self.target}"
        return f"{self.op} {self.target}"


def function_name(fn):
    """A function's public dotted name where PyTorch exposes it ("torch.fft.fft2")."""
    for public, space in _public_spaces():
        for attr in sorted(dir(space), key=lambda a: a.startswith("_")):
            if getattr(space, attr, None) is fn:
                return f"{public}.{attr}"
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    module = "operator" if module == "_operator" else module
    return f"{module}.{name}" if module else name


def _public_spaces():
    return [("torch.fft", torch.fft), ("torch.linalg", torch.linalg), ("torch.special", torch.special),
            ("torch.nn.functional", F), ("torch", torch), ("operator", operator)]


def _function_forwards():
    """{code object of forward: class} of every custom autograd Function defined so far."""
    found, stack = {}, list(torch.autograd.Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        forward = cls.__dict__.get("forward")
        forward = getattr(forward, "__func__", forward)
        if hasattr(forward, "__code__") and not cls.__module__.startswith("torch."):
            found[forward.__code__] = cls
    return found


def inside_custom_function(forwards):
    """(Function class, source of its apply call) when the caller runs inside the forward of
    a custom autograd Function, else None."""
    frame = sys._getframe(1)
    while frame is not None:
        cls = forwards.get(frame.f_code)
        if cls is not None:
            outer = traceback.extract_stack(frame.f_back)
            return cls, user_source(outer)
        frame = frame.f_back
    return None


def user_source(frames):
    """'file:line `code`' of the innermost frame outside torch and this package."""
    for frame in reversed(frames):
        if not frame.filename.startswith((_TORCH_DIR, _OWN_DIR)) and "torch/fx" not in frame.filename:
            code = (frame.line or "").strip()
            return f"{frame.filename}:{frame.lineno}" + (f" `{code}`" if code else "")
    return "?"


class TraceError(RuntimeError):
    """The model could not be traced at all."""


# ---------------------------------------------------------------------------------------
# torch.fx


class _Tracer(fx.Tracer):
    def __init__(self, is_leaf):
        super().__init__()
        self.record_stack_traces = True
        self._is_leaf = is_leaf
        self._scope = [""]
        self._forwards = _function_forwards()

    def is_leaf_module(self, m, qualname):
        return self._is_leaf(m) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        self._scope.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._scope.pop()

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        scope = self._scope[-1]
        if kind == "call_module":  # a leaf's node belongs to the module that calls it
            scope = self._scope[-2] if len(self._scope) > 1 else ""
        proxy.node.meta["oicsr_scope"] = scope
        proxy.node.meta["oicsr_source"] = user_source(traceback.extract_stack()[:-1])
        inside = inside_custom_function(self._forwards)
        if inside:
            proxy.node.meta["oicsr_function"] = inside
        return proxy


def trace_fx(model, example, is_leaf):
    """Ops of `model` (in eval mode) traced by torch.fx; raises what fx raises."""
    tracer = _Tracer(is_leaf)
    graph = tracer.trace(model)
    module = fx.GraphModule(model, graph)
    with torch.no_grad():
        ShapeProp(module).propagate(example)
    ops, of = [], {}

    def convert(a):
        return fx.node.map_arg(a, lambda n: of[n])

    for node in graph.nodes:
        meta = node.meta.get("tensor_meta")
        shape = tuple(meta.shape) if isinstance(meta, fx.passes.shape_prop.TensorMetadata) else None
        multiple = isinstance(meta, (tuple, list)) and any(
            isinstance(m, fx.passes.shape_prop.TensorMetadata) for m in meta)
        scope = node.meta.get("oicsr_scope", "")
        source = node.meta.get("oicsr_source", "?")
        if node.op == "placeholder":
            op = Op(node.name, "input", node.target, shape=shape)
        elif node.op == "get_attr":
            op = Op(node.name, "constant", node.target, shape=shape, source=source, scope=scope)
        elif node.op == "call_module":
            op = Op(node.name, "module", node.target, convert(node.args), convert(node.kwargs), shape, source, scope,
                    model.get_submodule(node.target))
        elif node.op == "call_function":
            op = Op(node.name, "function", node.target, convert(node.args), convert(node.kwargs), shape, source, scope)
        elif node.op == "call_method":
            op = Op(node.name, "method", node.target, convert(node.args), convert(node.kwargs), shape, source, scope)
        elif node.op == "output":
            op = Op(node.name, "output", "output", convert(node.args))
        else:
            raise TraceError(f"unknown fx node kind {node.op}")
        op.function = node.meta.get("oicsr_function")
        op.multiple = multiple
        of[node] = op
        ops.append(op)
    return ops


# ---------------------------------------------------------------------------------------
# One eager run, recorded


_DUNDER = {"__add__": "add", "__radd__": "add", "__iadd__": "add_", "__mul__": "mul", "__rmul__": "mul",
           "__imul__": "mul_", "__getitem__": "getitem", "__truediv__": "div", "__sub__": "sub"}


class _Recording(TorchFunctionMode):
    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.recorder.inside_leaf == 0:
            self.recorder.call(func, args, kwargs, out)
        return out


class _Recorder:
    def __init__(self, model, is_leaf):
        self.model = model
        self.is_leaf = is_leaf
        self.inside_leaf = 0
        self.scope = [""]
        self.ops = []
        self.of = {}          # id(tensor) -> Op that produced its current value
        self.alive = []       # keeps recorded tensors alive so their ids stay unique
        self.pending = []     # inputs of the leaf modules being run
        self.names = {}
        self.module_names = {m: n for n, m in model.named_modules()}
        self.forwards = _function_forwards()

    def fresh(self, base):
        base = base.replace(".", "_") or "node"
        count = self.names.get(base, 0)
        self.names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def value(self, a):
        if isinstance(a, torch.Tensor):
            op = self.of.get(id(a))
            if op is None:
                op = Op(self.fresh("constant"), "constant", "a tensor not computed from the input",
                        shape=tuple(a.shape), source=user_source(traceback.extract_stack()))
                for name, p in list(self.model.named_parameters()) + list(self.model.named_buffers()):
                    if p is a:
                        op.target = name
                self.ops.append(op)
                self.remember(a, op)
            return op
        if isinstance(a, (list, tuple)):
            return type(a)(self.value(x) for x in a) if not hasattr(a, "_fields") else a
        if isinstance(a, dict):
            return {k: self.value(v) for k, v in a.items()}
        return a

    def remember(self, tensor, op):
        self.of[id(tensor)] = op
        self.alive.append(tensor)

    def emit(self, op, out):
        tensors = [out] if isinstance(out, torch.Tensor) else [t for t in out if isinstance(t, torch.Tensor)] \
            if isinstance(out, (list, tuple)) else []
        if not tensors:
            return
        op.shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
        op.multiple = not isinstance(out, torch.Tensor)
        self.ops.append(op)
        for t in tensors:
            self.remember(t, op)

    def call(self, func, args, kwargs, out):
        name = getattr(func, "__name__", "call")
        if name == "__get__":  # attribute reads such as x.shape
            return
        if getattr(torch.Tensor, name, None) is func or getattr(torch._C._TensorBase, name, None) is func:
            kind, target = "method", _DUNDER.get(name, name)
        else:
            kind, target = "function", func
        source = user_source(traceback.extract_stack()[:-2])
        op = Op(self.fresh(target if isinstance(target, str) else name), kind, target,
                self.value(args), self.value(kwargs), source=source, scope=self.scope[-1])
        op.function = inside_custom_function(self.forwards)
        self.emit(op, out)

    def pre_hook(self, module, args):
        self.scope.append(self.module_names[module])
        if self.is_leaf(module):
            if self.inside_leaf == 0:
                frames = traceback.extract_stack()[:-1]
                self.pending.append((self.value(args), user_source(frames)))
            self.inside_leaf += 1

    def post_hook(self, module, args, out):
        self.scope.pop()
        if self.is_leaf(module):
            self.inside_leaf -= 1
            if self.inside_leaf == 0:
                inputs, source = self.pending.pop()
                qualname = self.module_names[module]
                op = Op(self.fresh(qualname), "module", qualname, inputs, {}, source=source,
                        scope=self.scope[-1], module=module)
                self.emit(op, out)


def trace_eager(model, example, is_leaf):
    """Ops of one run of `model` (in eval mode) at `example`."""
    recorder = _Recorder(model, is_leaf)
    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(recorder.pre_hook))
        handles.append(m.register_forward_hook(recorder.post_hook))
    try:
        placeholder = Op("x", "input", "x", shape=tuple(example.shape))
        recorder.ops.append(placeholder)
        recorder.remember(example, placeholder)
        with torch.no_grad(), _Recording(recorder):
            out = model(example)
        recorder.ops.append(Op("output", "output", "output", (recorder.value(out),)))
    finally:
        for h in handles:
            h.remove()
    return recorder.ops


def is_inplace_module(m):
    return bool(getattr(m, "inplace", False))


# Functions known by name to the mapper, whatever object PyTorch hands over for them.
_FUNCTIONS = {}
for _space, _names in [
    (torch, ["relu", "relu_", "sigmoid", "sigmoid_", "add", "mul", "cat", "concat", "flatten", "mean", "reshape",
             "max_pool2d", "avg_pool2d", "dropout", "hardtanh", "clone", "adaptive_avg_pool2d"]),
    (F, ["relu", "relu_", "relu6", "hardtanh", "sigmoid", "hardsigmoid", "hardswish", "silu", "adaptive_avg_pool2d",
         "max_pool2d", "avg_pool2d", "dropout"]),
    (torch.nn.functional, ["max_pool2d_with_indices"]),
]:
    for _name in _names:
        _fn = getattr(_space, _name, None)
        if _fn is not None:
            _FUNCTIONS.setdefault(_fn, _name)
_FUNCTIONS.update({operator.add: "add", operator.iadd: "add_", operator.mul: "mul", operator.imul: "mul_",
                   operator.getitem: "getitem", builtins.getattr: "getattr"})
try:
    import torchvision.ops
    _FUNCTIONS[torchvision.ops.stochastic_depth] = "stochastic_depth"
except ImportError:  # torchvision is optional
    pass


def canonical(op):
    """The name the mapper knows `op`'s call by ("relu", "add_", ...), or None."""
    if op.op == "method":
        return op.target
    if op.op == "function":
        try:
            return _FUNCTIONS.get(op.target)
        except TypeError:  # unhashable
            return None
    return None
