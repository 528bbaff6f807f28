"""The architecture JSON of docs/architecture-json.md §1: parsing, validation, output shapes.

One table, `KINDS`, holds every layer kind: how many inputs it takes, its fields with their
defaults, and the shape rule. Shapes: a map is ``(C, H, W)``, a vector ``(F,)``, of one example.
"""
import json
import math
from dataclasses import dataclass, field

IMAGE = "input"
LIMIT = 2 ** 20
REQUIRED = object()  # a field without a default


class ArchitectureError(ValueError):
    """A rejected architecture: `layer` and `field` say where, the message says what is wrong."""

    def __init__(self, problem, layer=None, field=None):
        self.problem, self.layer, self.field = problem, layer, field
        where = "architecture"
        if layer is not None:
            where += f": layer '{layer}'"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Kind:
    """A layer kind: `arity` inputs (None: two or more), `fields` with defaults, `needs`:
    "map", "vector" or None for what the first input must be."""
    name: str
    arity: object = 1
    fields: dict = field(default_factory=dict)
    needs: object = None


ACTIVATIONS = ("relu", "relu6", "sigmoid", "hardsigmoid", "hardswish", "silu")
POOL_FIELDS = {"kernel": REQUIRED, "stride": None, "padding": 0, "ceil": False}
KINDS = {k.name: k for k in [
    Kind("conv2d", fields={"out": REQUIRED, "kernel": REQUIRED, "stride": 1, "padding": 0, "dilation": 1,
                           "groups": 1, "bias": False}, needs="map"),
    Kind("linear", fields={"out": REQUIRED, "bias": True}, needs="vector"),
    Kind("batchnorm", fields={"eps": 1e-5, "momentum": 0.1}, needs="map"),
    *[Kind(a) for a in ACTIVATIONS],
    Kind("dropout", fields={"p": 0.5}),
    Kind("stochasticdepth", fields={"p": REQUIRED}, needs="map"),
    Kind("maxpool", fields=dict(POOL_FIELDS), needs="map"),
    Kind("avgpool", fields={**POOL_FIELDS, "count_pad": True}, needs="map"),
    Kind("adaptiveavgpool", fields={"size": REQUIRED}, needs="map"),
    Kind("globalavgpool", needs="map"),
    Kind("flatten"),
    Kind("add", arity=2),
    Kind("mul", arity=2, needs="map"),
    Kind("concat", arity=None, needs="map"),
]}
COMMON_FIELDS = ("name", "kind", "inputs", "in")


@dataclass
class Layer:
    name: str
    kind: str
    inputs: list          # producer names, resolved ("input" for the image)
    fields: dict          # every field of the kind, defaults filled in
    explicit_inputs: bool = False
    declared_in: object = None

    def __getitem__(self, key):
        return self.fields[key]


def _pool_size(length, kernel, stride, padding, dilation=1, ceil=False):
    """PyTorch's output length of a convolution or pooling window (pooling_output_shape):
    with `ceil`, a last window that would start inside the right padding is dropped."""
    span = length + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= length + padding:
        out -= 1
    return out


@dataclass
class Architecture:
    name: str
    input: list
    classes: int
    layers: list

    @staticmethod
    def parse(source):
        """From a JSON string or an already decoded dict; validates everything, shapes included."""
        root = json.loads(source) if isinstance(source, (str, bytes)) else source
        if not isinstance(root, dict):
            raise ArchitectureError("not a JSON object")
        for key in root:
            if key not in ("name", "input", "classes", "layers"):
                raise ArchitectureError("unknown field", field=key)
        name = root.get("name")
        if not isinstance(name, str):
            raise ArchitectureError("missing or not a string", field="name")
        shape = root.get("input")
        if not (isinstance(shape, list) and len(shape) == 3 and all(_is_int(d) and 0 < d <= LIMIT for d in shape)):
            raise ArchitectureError("expected [channels, height, width] of positive integers", field="input")
        classes = root.get("classes")
        if not (_is_int(classes) and classes > 1):
            raise ArchitectureError("missing or not an integer above 1", field="classes")
        raw = root.get("layers")
        if not (isinstance(raw, list) and raw):
            raise ArchitectureError("missing or empty", field="layers")
        layers = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict):
                raise ArchitectureError("not a JSON object", layer=f"#{index}")
            layer_name = entry.get("name")
            if not (isinstance(layer_name, str) and layer_name):
                raise ArchitectureError("missing or not a string", layer=f"#{index}", field="name")
            kind_name = entry.get("kind")
            kind = KINDS.get(kind_name)
            if kind is None:
                raise ArchitectureError(f"unknown kind {kind_name!r}; known: {', '.join(KINDS)}", layer=layer_name, field="kind")
            for key in entry:
                if key not in COMMON_FIELDS and key not in kind.fields:
                    raise ArchitectureError(f"unknown field for {kind_name}", layer=layer_name, field=key)
            values = {}
            for key, default in kind.fields.items():
                if key in entry:
                    values[key] = entry[key]
                elif default is REQUIRED:
                    raise ArchitectureError("missing", layer=layer_name, field=key)
                else:
                    values[key] = default
            explicit = "inputs" in entry
            inputs = entry.get("inputs")
            if explicit and not (isinstance(inputs, list) and all(isinstance(i, str) for i in inputs)):
                raise ArchitectureError("not a list of layer names", layer=layer_name, field="inputs")
            if not explicit:
                inputs = [layers[-1].name if layers else IMAGE]
            declared = entry.get("in")
            if declared is not None and not (_is_int(declared) and declared > 0):
                raise ArchitectureError("not a positive integer", layer=layer_name, field="in")
            layers.append(Layer(layer_name, kind_name, list(inputs), values, explicit, declared))
        architecture = Architecture(name, list(shape), classes, layers)
        architecture.shapes()
        return architecture

    def shapes(self):
        """Each layer's output shape (one example), checking wiring and fields on the way."""
        shapes = {IMAGE: tuple(self.input)}
        result = []
        for layer in self.layers:
            if layer.name in shapes:
                raise ArchitectureError("used twice" if layer.name != IMAGE else "'input' names the image", layer.name, "name")
            for producer in layer.inputs:
                if producer not in shapes:
                    raise ArchitectureError(f"'{producer}' is not an earlier layer", layer.name, "inputs")
            inputs = [shapes[p] for p in layer.inputs]
            out = _infer(layer, inputs)
            if any(d > 2 ** 31 for d in out) or math.prod(out) > 2 ** 31:
                raise ArchitectureError(f"output {out} is too large", layer.name)
            shapes[layer.name] = out
            result.append(out)
        if result[-1] != (self.classes,):
            raise ArchitectureError(f"the last layer must give {self.classes} class scores, found {_show(result[-1])}",
                                    self.layers[-1].name, "out")
        return result

    def by_name(self):
        return {layer.name: layer for layer in self.layers}

    def to_dict(self):
        """The JSON form: fields at their defaults are left out, `inputs` only where a layer
        does not read the layer before it."""
        out = []
        previous = IMAGE
        for layer in self.layers:
            entry = {"name": layer.name, "kind": layer.kind}
            if layer.inputs != [previous]:
                entry["inputs"] = list(layer.inputs)
            if layer.declared_in is not None:
                entry["in"] = layer.declared_in
            for key, default in KINDS[layer.kind].fields.items():
                value = layer.fields[key]
                if default is REQUIRED or value != default or key == "p":
                    entry[key] = value
            out.append(entry)
            previous = layer.name
        return {"name": self.name, "input": list(self.input), "classes": self.classes, "layers": out}

    def to_json(self):
        return json.dumps(self.to_dict(), separators=(",", ":"))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _show(shape):
    return "x".join(map(str, shape)) if len(shape) == 3 else f"a vector of {shape[0]}"


def _infer(layer, inputs):
    kind = KINDS[layer.kind]
    name = layer.name

    def fail(problem, field=None):
        return ArchitectureError(problem, name, field)

    if kind.arity is None:
        if len(inputs) < 2:
            raise fail(f"{layer.kind} takes 2 or more inputs, found {len(inputs)}", "inputs")
    elif len(inputs) != kind.arity:
        raise fail(f"{layer.kind} takes {kind.arity} input(s), found {len(inputs)}", "inputs")
    x = inputs[0]
    if kind.needs == "map" and len(x) != 3:
        raise fail(f"{layer.kind} needs a map, but '{layer.inputs[0]}' gives a vector", "inputs")
    if kind.needs == "vector" and len(x) != 1:
        raise fail(f"{layer.kind} needs a vector; put globalavgpool or flatten before it ('{layer.inputs[0]}' gives {_show(x)})", "inputs")
    if layer.declared_in is not None and layer.declared_in != x[0]:
        raise fail(f"expected {x[0]} (what '{layer.inputs[0]}' produces), found {layer.declared_in}", "in")

    def integer(key, minimum=1, maximum=LIMIT):
        value = layer.fields[key]
        if not _is_int(value):
            raise fail("not an integer", key)
        if not minimum <= value <= maximum:
            raise fail(f"must be in {minimum}...{maximum}, found {value}", key)
        return value

    def flag(key):
        if not isinstance(layer.fields[key], bool):
            raise fail("not true or false", key)
        return layer.fields[key]

    def probability(key):
        value = layer.fields[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise fail(f"must be a number with 0 <= p < 1, found {value!r}", key)
        return value

    if layer.kind == "conv2d":
        out, k, s = integer("out"), integer("kernel"), integer("stride")
        p, d, g = integer("padding", 0, 2 ** 16), integer("dilation"), integer("groups")
        flag("bias")
        if x[0] % g or out % g:
            raise fail(f"{g} must divide the input channels ({x[0]}) and out ({out})", "groups")
        h, w = (_pool_size(n, k, s, p, d) for n in x[1:])
        if h < 1 or w < 1:
            raise fail(f"{k} (dilation {d}) is larger than the padded {x[1]}x{x[2]} input", "kernel")
        return (out, h, w)
    if layer.kind == "linear":
        flag("bias")
        return (integer("out"),)
    if layer.kind in ("maxpool", "avgpool"):
        k = integer("kernel")
        s = integer("stride") if layer.fields["stride"] is not None else k
        p = integer("padding", 0, 2 ** 16)
        ceil = flag("ceil")
        if layer.kind == "avgpool":
            flag("count_pad")
        if 2 * p > k:
            raise fail(f"at most half the kernel, found {p}", "padding")
        h, w = (_pool_size(n, k, s, p, 1, ceil) for n in x[1:])
        if h < 1 or w < 1:
            raise fail(f"{k} is larger than the padded {x[1]}x{x[2]} input", "kernel")
        return (x[0], h, w)
    if layer.kind == "batchnorm":
        for key in ("eps", "momentum"):
            value = layer.fields[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise fail(f"must be a number in [0, 1], found {value!r}", key)
        return x
    if layer.kind in ("dropout", "stochasticdepth"):
        probability("p")
        return x
    if layer.kind in ACTIVATIONS:
        return x
    if layer.kind == "adaptiveavgpool":
        size = layer.fields["size"]
        if not (isinstance(size, list) and len(size) == 2 and all(_is_int(n) and 0 < n <= LIMIT for n in size)):
            raise fail("expected [height, width] of positive integers", "size")
        return (x[0], size[0], size[1])
    if layer.kind == "globalavgpool":
        return (x[0],)
    if layer.kind == "flatten":
        return (math.prod(x),)
    if layer.kind == "add":
        if inputs[0] != inputs[1]:
            raise fail(f"shapes differ: '{layer.inputs[0]}' gives {_show(inputs[0])}, '{layer.inputs[1]}' gives {_show(inputs[1])}", "inputs")
        return x
    if layer.kind == "mul":
        gate = inputs[1]
        if len(gate) != 3 or gate[0] != x[0] or gate[1:] not in ((1, 1), x[1:]):
            raise fail(f"the gate '{layer.inputs[1]}' gives {_show(gate)}; it needs {x[0]} channels of 1x1 or {x[1]}x{x[2]}", "inputs")
        return x
    if layer.kind == "concat":
        for producer, shape in zip(layer.inputs, inputs):
            if len(shape) != 3 or shape[1:] != x[1:]:
                raise fail(f"'{producer}' gives {_show(shape)}, concat needs maps of {x[1]}x{x[2]}", "inputs")
        return (sum(s[0] for s in inputs), x[1], x[2])
    raise AssertionError(layer.kind)
