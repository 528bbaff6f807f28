"""The sparsity regularizers of docs/design.md §5 for training in PyTorch, with the math of
Sources/Pruning/Regularizers.swift, on the groups of groups.py.

    reg = OICSR(model, lam=1e-4, input_shape=(3, 224, 224))      # oicsr-gl, proximal
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(); loss.backward()
        reg.add_subgradient()         # does nothing in proximal mode
        optimizer.step()
        reg.proximal_step(lr)         # does nothing in subgradient mode

Works on a bare model and on a DistributedDataParallel (or DataParallel) wrapper: the groups
hold the wrapped module's own parameters, and every rank computes the same factors from the
same (all-reduced) values, so the ranks stay identical.
"""
import json
import math
from dataclasses import dataclass
from enum import Enum

import torch

from . import checkpoint as ckpt
from .architecture import Architecture
from .export import trace, unwrap
from .groups import ChannelGroups


class Kind(str, Enum):
    """Which penalty: group lasso on whole out-in-channels (OICSR), on each layer's output
    filters separately (GL), L1 on BatchNorm scales (network slimming), or none (L2)."""
    OICSR_GL = "oicsr-gl"
    GL = "gl"
    L1_BN = "l1-bn"
    L2 = "l2"


class Step(str, Enum):
    """How the penalty enters the optimisation: a proximal step after each optimizer step
    (block soft-thresholding: weak groups reach exactly zero), or the subgradient g/‖g‖
    (zero at 0) added to the gradients after backward."""
    PROXIMAL = "proximal"
    SUBGRADIENT = "subgradient"


class Criterion(str, Enum):
    """What a channel's energy measures (Sources/Pruning/Energy.swift)."""
    OUT_IN = "out-in"
    OUT = "out"
    BN_SCALE = "bn-scale"


MATCHING = {Kind.OICSR_GL: Criterion.OUT_IN, Kind.GL: Criterion.OUT, Kind.L2: Criterion.OUT,
            Kind.L1_BN: Criterion.BN_SCALE}


@dataclass
class Member:
    """The part of one parameter that belongs to the channels of a group: `width` channels
    along `dim`, from `offset`, each `features` entries wide (a linear consumer after a
    flatten reads h·w columns per channel)."""
    parameter: torch.nn.Parameter
    dim: int
    offset: int
    width: int
    features: int = 1

    def view(self, tensor):
        """The channels' part of `tensor` (the parameter or its gradient), with the channel
        axis at `dim`."""
        part = tensor.narrow(self.dim, self.offset * self.features, self.width * self.features)
        if self.features > 1:
            part = part.unflatten(self.dim, (self.width, self.features))
        return part

    def squares(self):
        part = self.view(self.parameter.detach()).double()
        dims = [d for d in range(part.dim()) if d != self.dim]
        return part.pow(2).sum(dims) if dims else part.pow(2)

    def per_channel(self, values):
        """`values` (width,) shaped to broadcast over `view`."""
        shape = [1] * self.view(self.parameter).dim()
        shape[self.dim] = self.width
        return values.to(self.parameter.dtype).reshape(shape)

    @property
    def count(self):
        return self.view(self.parameter).numel() // self.width


@dataclass
class GroupSet:
    name: str
    width: int
    members: list

    def norms(self):
        total = torch.zeros(self.width, dtype=torch.float64, device=self.members[0].parameter.device)
        for member in self.members:
            total += member.squares()
        return total.sqrt()

    @property
    def count(self):
        return sum(m.count for m in self.members)


class OICSR:
    """A sparsity regularizer over the channel groups of `model`.

    `model`: an nn.Module or a DDP/DataParallel wrapper. `lam`: λ. `kind`: "oicsr-gl", "gl",
    "l1-bn" (or "l2": nothing). `step`: "proximal" or "subgradient". `coupled`: also
    regularize the channels joined by residual sums. `batchnorm_in_group`: BatchNorm γ and β
    belong to the out part of a group (design §5). `input_shape` (C, H, W) traces the model
    to find its groups; or give `architecture` (JSON or Architecture) instead.
    `scale_by_size`: λ·√|g| per group. `normalization`, `dataset`, `class_names`: recorded
    by `dump`."""

    def __init__(self, model, lam, kind=Kind.OICSR_GL, step=Step.PROXIMAL, coupled=False, batchnorm_in_group=True,
                 input_shape=None, architecture=None, scale_by_size=False, normalization=None, dataset="unknown",
                 class_names=None):
        self.model = model
        self.module = unwrap(model)
        self.lam = float(lam)
        self.kind = Kind(kind)
        self.step = Step(step)
        self.batchnorm_in_group = batchnorm_in_group
        self.scale_by_size = scale_by_size
        self.normalization, self.dataset, self.class_names = normalization, dataset, class_names
        if architecture is None:
            if input_shape is None:
                raise ValueError("OICSR needs input_shape (C, H, W) to trace the model, or its architecture")
            architecture = trace(self.module, input_shape, name=type(self.module).__name__.lower()).architecture
        elif not isinstance(architecture, Architecture):
            architecture = Architecture.parse(architecture)
        self.architecture = architecture
        self.groups = ChannelGroups(architecture, coupled=coupled)
        self._parameters = dict(self.module.named_parameters())
        self.sets = self._sets()
        kinds = {l.name: l.kind for l in architecture.layers}
        self.scales = [self._parameter(f"{name}.weight") for name, kind in kinds.items() if kind == "batchnorm"]

    # -- the groups as parameter slices ----------------------------------------------------------

    def _parameter(self, name):
        parameter = self._parameters.get(name)
        if parameter is None:
            raise ValueError(f"the model has no parameter '{name}' (the architecture's layer names must be the "
                             "model's module names)")
        return parameter

    def _optional(self, name):
        return self._parameters.get(name)

    def _out_part(self, group, with_batchnorm, producers_only=False):
        members = []
        for producer in group.producers:
            members.append(Member(self._parameter(producer + ".weight"), 0, 0, group.width))
            bias = self._optional(producer + ".bias")
            if bias is not None and not producers_only:
                members.append(Member(bias, 0, 0, group.width))
        if producers_only:
            return members
        if with_batchnorm:
            for s in group.batchnorms:
                members += [Member(self._parameter(f"{s.layer}.{p}"), 0, s.offset, group.width) for p in ("weight", "bias")]
        for s in group.depthwise:
            members.append(Member(self._parameter(s.layer + ".weight"), 0, s.offset, group.width))
            bias = self._optional(s.layer + ".bias")
            if bias is not None:
                members.append(Member(bias, 0, s.offset, group.width))
        return members

    def _in_part(self, group):
        return [Member(self._parameter(s.layer + ".weight"), 1, s.offset, group.width, s.features)
                for s in group.consumers]

    def _sets(self):
        if self.kind == Kind.OICSR_GL:
            return [GroupSet(g.name, g.width, self._out_part(g, self.batchnorm_in_group) + self._in_part(g))
                    for g in self.groups.groups]
        if self.kind == Kind.GL:
            # One set per producer filter: a coupled space's producers are regularized separately.
            return [GroupSet(g.name, g.width, [member])
                    for g in self.groups.groups for member in self._out_part(g, False, producers_only=True)]
        return []

    def _lambda(self, group_set):
        return self.lam * (math.sqrt(group_set.count) if self.scale_by_size else 1.0)

    # -- the regularizer -------------------------------------------------------------------------

    @torch.no_grad()
    def penalty(self):
        """λ Σ‖g‖₂ over the groups (λ Σ|γ| for L1-BN), as a float."""
        if self.kind == Kind.L1_BN:
            return float(sum(self.lam * s.detach().double().abs().sum().item() for s in self.scales))
        return float(sum(self._lambda(s) * s.norms().sum().item() for s in self.sets))

    @torch.no_grad()
    def add_subgradient(self):
        """In subgradient mode, adds λ·g/‖g‖ (zero at 0; λ·sign(γ) for L1-BN) to the
        gradients; call it after backward and before the optimizer step. Returns the penalty."""
        penalty = self.penalty()
        if self.step != Step.SUBGRADIENT or self.lam == 0:
            return penalty
        if self.kind == Kind.L1_BN:
            for scale in self.scales:
                _grad(scale).add_(self.lam * torch.sign(scale.detach()))
            return penalty
        for group_set in self.sets:
            norms = group_set.norms()
            factor = torch.where(norms > 0, self._lambda(group_set) / norms.clamp_min(1e-300), torch.zeros_like(norms))
            for member in group_set.members:
                if member.parameter.requires_grad:
                    member.view(_grad(member.parameter)).add_(member.per_channel(factor) * member.view(member.parameter))
        return penalty

    @torch.no_grad()
    def proximal_step(self, lr):
        """In proximal mode, the proximal operator of lr·λ‖g‖₂ after an optimizer step:
        g ← g·max(0, 1 − lr·λ/‖g‖). OICSR's groups overlap (a consumer holds input slices of
        many groups), so every factor is computed from the norms before the step, then all are
        applied: the result does not depend on the order of the groups. L1-BN: γ is
        soft-thresholded by lr·λ."""
        if self.step != Step.PROXIMAL or self.lam == 0:
            return
        if self.kind == Kind.L1_BN:
            threshold = lr * self.lam
            for scale in self.scales:
                scale.copy_(torch.sign(scale) * (scale.abs() - threshold).clamp_min(0))
            return
        factors = []
        for group_set in self.sets:
            threshold = lr * self._lambda(group_set)
            norms = group_set.norms()
            factors.append(torch.where(norms > threshold, 1 - threshold / norms.clamp_min(1e-300), torch.zeros_like(norms)))
        for group_set, factor in zip(self.sets, factors):
            if bool((factor < 1).any()):
                for member in group_set.members:
                    member.view(member.parameter).mul_(member.per_channel(factor))

    @torch.no_grad()
    def energies(self, criterion=None):
        """{group name: [E_i]} with E_i = ‖g_i‖² over the group's members under `criterion`:
        "out-in" (the whole group), "out" (producers, BatchNorm when batchnorm_in_group,
        depthwise filters) or "bn-scale" (|γ|, the norm of the group's BatchNorm scales).
        Default: the criterion that matches the regularizer, as oicsr ranks channels."""
        criterion = Criterion(criterion) if criterion is not None else MATCHING[self.kind]
        result = {}
        for g in self.groups.groups:
            if criterion == Criterion.OUT_IN:
                members = self._out_part(g, self.batchnorm_in_group) + self._in_part(g)
            elif criterion == Criterion.OUT:
                members = self._out_part(g, self.batchnorm_in_group)
            else:
                members = [Member(self._parameter(s.layer + ".weight"), 0, s.offset, g.width) for s in g.batchnorms]
            squares = GroupSet(g.name, g.width, members).norms().pow(2) if members else torch.zeros(g.width, dtype=torch.float64)
            values = squares.sqrt() if criterion == Criterion.BN_SCALE else squares
            result[g.name] = [float(v) for v in values]
        return result

    def dump(self, path, epoch, metrics=None):
        """Writes the current weights as an oicsr checkpoint (with `oicsr.epoch`), on rank 0
        only; other ranks return at once. Returns True where a file was written."""
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if distributed and torch.distributed.get_rank() != 0:
            return False
        extra = {"oicsr.epoch": str(epoch)}
        if metrics:
            extra["oicsr.metrics"] = json.dumps({k: float(v) for k, v in metrics.items()})
        ckpt.write(path, self.architecture, self.module.state_dict(), normalization=self.normalization,
                   dataset=self.dataset, class_names=self.class_names, regularizer=self.kind.value, lam=self.lam,
                   extra=extra)
        return True


def _grad(parameter):
    if parameter.grad is None:
        parameter.grad = torch.zeros_like(parameter)
    return parameter.grad
