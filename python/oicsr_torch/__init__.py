"""The PyTorch bridge of oicsr: export a CNN to an oicsr checkpoint, load a pruned checkpoint
back into the model's own class, and train with the OICSR regularizer (DDP included)."""
from .architecture import Architecture, ArchitectureError
from .checkpoint import CheckpointError
from .export import ExportError, export, trace
from .groups import ChannelGroups
from .interpret import interpret

__all__ = ["Architecture", "ArchitectureError", "CheckpointError", "ChannelGroups", "ExportError", "export",
           "interpret", "trace"]
