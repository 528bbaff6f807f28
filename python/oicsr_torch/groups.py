"""Channel groups of an architecture, by exactly the rules of docs/architecture-json.md §2.

Every activation lies in channel *spaces*: a layer's output has a *layout*, the list of spaces
its channels come from, in order, each with its width. A `conv2d` (groups 1) or `linear`
opens a space (its producer) and consumes its input layout; a depthwise conv, BatchNorm,
activations, dropout, pooling and flatten pass the layout through; `concat` lays layouts one
after another; `add` and `mul` join their inputs' spaces pairwise (union-find). Each space
left is a group; channel i of a group is producer rows i, per-channel entries offset + i
(BatchNorm, depthwise filters) and consumer input slices offset + i.
"""
import json
from dataclasses import dataclass, field

from .architecture import IMAGE, Architecture

RESIDUAL_REASON = "joined by residual sums across {} layers; prune with coupled channels on"


@dataclass(frozen=True)
class Slice:
    """Where a group's channels lie in one layer: channel i is entry `offset + i` of the
    layer's channels (a BatchNorm's or depthwise conv's entries, or a consumer's input
    channels); a linear consumer reads `features` columns per channel."""
    layer: str
    offset: int = 0
    features: int = 1


@dataclass
class Group:
    id: int
    name: str
    width: int
    producers: list
    batchnorms: list = field(default_factory=list)   # [Slice]
    depthwise: list = field(default_factory=list)    # [Slice]
    consumers: list = field(default_factory=list)    # [Slice]
    members: list = field(default_factory=list)      # [Slice]: layers whose output lies in it
    coupled: bool = False                            # joined by a residual add


class ChannelGroups:
    """The spaces, groups and fixed (never pruned) spaces of an architecture.

    `coupled`: also offer the spaces joined by residual sums (the paper prunes only
    block-internal channels, so they are fixed by default)."""

    def __init__(self, architecture, coupled=False):
        if not isinstance(architecture, Architecture):
            architecture = Architecture.parse(architecture)
        self.architecture = arch = architecture
        shapes = dict(zip((l.name for l in arch.layers), arch.shapes()))
        shapes[IMAGE] = tuple(arch.input)
        parent, widths = [0], [arch.input[0]]

        def find(s):
            while parent[s] != s:
                parent[s] = parent[parent[s]]
                s = parent[s]
            return s

        def new_space(width):
            parent.append(len(parent))
            widths.append(width)
            return len(parent) - 1

        layouts = {IMAGE: [(0, arch.input[0])]}
        features = {IMAGE: 1}
        producer_of = {}                 # space -> producing layer
        reasons = {}                     # space -> why it cannot be pruned
        residual = set()                 # spaces joined by an add
        uses = {"batchnorm": [], "depthwise": [], "consumer": []}   # (layer, layout, features)

        def join(a, b, layer, is_residual):
            if [w for _, w in a] != [w for _, w in b]:
                for s, _ in a + b:
                    reasons.setdefault(s, f"'{layer}' combines tensors whose channels are split differently")
                return
            for (s, _), (t, _) in zip(a, b):
                if is_residual:
                    residual.update((s, t))
                parent[find(t)] = find(s)

        for layer in arch.layers:
            inputs = [layouts[p] for p in layer.inputs]
            x, shape_in = inputs[0], shapes[layer.inputs[0]]
            f = features[layer.inputs[0]]
            out, out_features = x, f
            if layer.kind == "conv2d":
                groups, width = layer["groups"], layer["out"]
                if groups == 1:
                    uses["consumer"].append((layer.name, x, 1))
                    out = [(new_space(width), width)]
                    producer_of[out[0][0]] = layer.name
                elif groups == shape_in[0] == width:
                    uses["depthwise"].append((layer.name, x, 1))
                else:
                    for s, _ in x:
                        reasons.setdefault(s, "read by a grouped convolution")
                    out = [(new_space(width), width)]
                    producer_of[out[0][0]] = layer.name
                    reasons[out[0][0]] = "written by a grouped convolution"
            elif layer.kind == "linear":
                uses["consumer"].append((layer.name, x, f))
                out, out_features = [(new_space(layer["out"]), layer["out"])], 1
                producer_of[out[0][0]] = layer.name
            elif layer.kind == "batchnorm":
                uses["batchnorm"].append((layer.name, x, 1))
            elif layer.kind == "flatten":
                out_features = shape_in[1] * shape_in[2] if len(shape_in) == 3 else f
            elif layer.kind == "globalavgpool":
                out_features = 1
            elif layer.kind == "add":
                join(x, inputs[1], layer.name, True)
            elif layer.kind == "mul":
                join(x, inputs[1], layer.name, False)
            elif layer.kind == "concat":
                out = [segment for layout in inputs for segment in layout]
            layouts[layer.name] = out
            features[layer.name] = out_features

        root_reasons, residual_roots = {}, {find(s) for s in residual}
        for s, reason in reasons.items():
            root_reasons.setdefault(find(s), reason)
        producers = {}
        for layer in arch.layers:
            for s, _ in layouts[layer.name]:
                if producer_of.get(s) == layer.name:
                    producers.setdefault(find(s), []).append(layer.name)

        self._find = find
        self._layouts = layouts
        self.features = features
        order, members = [], {}
        for layer in arch.layers:
            for root, offset, width in self._segments(layouts[layer.name]):
                if root not in members:
                    order.append(root)
                    members[root] = []
                members[root].append(Slice(layer.name, offset))
        image, logits = find(0), {find(s) for s, _ in layouts[arch.layers[-1].name]}

        self.groups, self.fixed, self.group_of_root = [], [], {}
        for root in order:
            if root == image:
                continue
            made = producers.get(root, [])
            is_residual = root in residual_roots
            name = f"stage of {made[0]}" if is_residual else made[0]
            if root in logits:
                self.fixed.append((name, "the class scores"))
            elif root in root_reasons:
                self.fixed.append((name, root_reasons[root]))
            elif is_residual and not coupled:
                self.fixed.append((name, RESIDUAL_REASON.format(len(made))))
            else:
                self.group_of_root[root] = len(self.groups)
                self.groups.append(Group(len(self.groups), name, widths[root], made, members=members[root],
                                         coupled=is_residual))
        for kind, entries in uses.items():
            for layer, layout, f in entries:
                for root, offset, _ in self._segments(layout):
                    g = self.group_of_root.get(root)
                    if g is None:
                        continue
                    target = {"batchnorm": self.groups[g].batchnorms, "depthwise": self.groups[g].depthwise,
                              "consumer": self.groups[g].consumers}[kind]
                    target.append(Slice(layer, offset, f))

    def _segments(self, layout):
        """(root, offset, width) of each segment of a layout."""
        offset = 0
        for s, width in layout:
            yield self._find(s), offset, width
            offset += width

    def layout(self, layer):
        """[(group id or None, offset, width)] of a layer's output channels ("input": the image)."""
        return [(self.group_of_root.get(root), offset, width) for root, offset, width in self._segments(self._layouts[layer])]

    def by_name(self):
        return {g.name: g for g in self.groups}

    @property
    def total_channels(self):
        return sum(g.width for g in self.groups)

    def kept_channels(self, layer, kept):
        """Indices of `layer`'s output channels that survive when group g keeps `kept[g]`
        (channel indices of the group; groups not in `kept` keep everything)."""
        result = []
        for g, offset, width in self.layout(layer):
            chosen = kept.get(g) if g is not None else None
            result.extend(offset + i for i in (range(width) if chosen is None else chosen))
        return result

    def to_dict(self):
        """The form of `oicsr groups MODEL --json`."""
        shares = macs_shares(self)
        return {
            "model": self.architecture.name,
            "groups": [{
                "id": g.id, "name": g.name, "channels": g.width, "producers": g.producers,
                "batchNorms": [_slice(s) for s in g.batchnorms],
                "depthwise": [_slice(s) for s in g.depthwise],
                "consumers": [_slice(s) for s in g.consumers],
                "coupled": g.coupled, "macsShare": shares[g.id],
            } for g in self.groups],
            "fixed": [{"name": name, "reason": reason} for name, reason in self.fixed],
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _slice(s):
    return {"layer": s.layer, "offset": s.offset, "featuresPerChannel": s.features}


def describe(s):
    """"conv3", or "cat.bn (from channel 64)", or "fc (16 columns each)"."""
    notes = []
    if s.offset:
        notes.append(f"from channel {s.offset}")
    if s.features != 1:
        notes.append(f"{s.features} columns each")
    return s.layer + (f" ({', '.join(notes)})" if notes else "")


def layer_macs(architecture):
    """Multiply-accumulates of each conv2d and linear layer for one input (design §5)."""
    shapes = dict(zip((l.name for l in architecture.layers), architecture.shapes()))
    shapes[IMAGE] = tuple(architecture.input)
    macs = {}
    for layer in architecture.layers:
        x, y = shapes[layer.inputs[0]], shapes[layer.name]
        if layer.kind == "conv2d":
            macs[layer.name] = y[0] * layer["kernel"] ** 2 * (x[0] // layer["groups"]) * y[1] * y[2]
        elif layer.kind == "linear":
            macs[layer.name] = x[0] * y[0]
    return macs


def macs_shares(groups):
    """Share of the model's MACs in the layers each group touches: producers, depthwise
    convolutions and consumers."""
    macs = layer_macs(groups.architecture)
    total = max(sum(macs.values()), 1)
    return [sum(macs.get(n, 0) for n in set(g.producers) | {s.layer for s in g.consumers + g.depthwise}) / total
            for g in groups.groups]
