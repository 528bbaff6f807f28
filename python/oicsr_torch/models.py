"""Models named on the command line, and weights files.

A MODEL is `torchvision:NAME` (e.g. `torchvision:resnet18`), `package.module:FACTORY` (a class
or function importable from PYTHONPATH), or `path/to/file.py:FACTORY`. The factory is called
with `num_classes=N` when a class count is asked for and it accepts one.
"""
import importlib
import importlib.util
import inspect
import os

import torch

from . import safetensors


class ModelError(ValueError):
    """A model or weights file that cannot be used; the message says which and why."""


def build(spec, num_classes=None):
    """The nn.Module named by `spec`."""
    if ":" not in spec:
        raise ModelError(f"model '{spec}': expected torchvision:NAME, package.module:FACTORY or file.py:FACTORY")
    where, name = spec.rsplit(":", 1)
    if where == "torchvision":
        import torchvision.models
        factory = getattr(torchvision.models, name, None)
        if factory is None or not callable(factory) or name.startswith("_"):
            raise ModelError(f"model '{spec}': torchvision.models has no model '{name}'")
    else:
        if where.endswith(".py"):
            if not os.path.exists(where):
                raise ModelError(f"model '{spec}': no file {where}")
            module_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(where))[0], where)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            try:
                module = importlib.import_module(where)
            except ImportError as error:
                raise ModelError(f"model '{spec}': cannot import {where}: {error}") from None
        factory = getattr(module, name, None)
        if factory is None:
            raise ModelError(f"model '{spec}': {where} has no '{name}'")
    kwargs = {}
    if num_classes is not None:
        try:
            parameters = inspect.signature(factory).parameters
            if "num_classes" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
                kwargs["num_classes"] = num_classes
        except (TypeError, ValueError):
            pass
    model = factory(**kwargs)
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"model '{spec}': {name}() returned a {type(model).__name__}, not an nn.Module")
    return model


def read_state(path):
    """A state_dict from a PyTorch file (a bare state_dict, or a dict holding one under
    'state_dict' or 'model') or a safetensors file, with DataParallel's `module.` prefixes
    removed."""
    if path.endswith(".safetensors"):
        state, _ = safetensors.read(path)
    else:
        try:
            state = torch.load(path, map_location="cpu")
        except Exception as error:
            raise ModelError(f"{path}: cannot read weights: {error}") from None
        if isinstance(state, torch.nn.Module):
            state = state.state_dict()
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: not a state_dict (a dict of tensor names to tensors)")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def load_weights(model, path):
    from .checkpoint import load_state
    try:
        load_state(model, read_state(path), source="weights file")
    except ValueError as error:
        raise ModelError(f"{path}: {error}") from None
    return model
