"""Fine-tunes an oicsr checkpoint (pruned or not) in PyTorch and writes the result back as an
oicsr checkpoint, single process or under `torchrun` with DistributedDataParallel.

    python3 -m oicsr_torch finetune PRUNED.safetensors --model torchvision:resnet18 \\
        --data DATA.safetensors --epochs 2 --lr 0.01 --out TUNED.safetensors
    torchrun --nproc_per_node 2 -m oicsr_torch finetune ...      # the same, on two processes

The recipe is oicsr's trainer's: SGD with momentum 0.9 and weight decay 5e-4 on every
parameter (PyTorch's update), the learning rate on a half-cosine from `lr` to zero updated
every step, the CIFAR augmentation (4-pixel pad, random crop, flip) for data sets named
`cifar*` and none otherwise; the OICSR regularizer (regularizer.py) when `reg` is not `l2`.

Distributed (WORLD_SIZE > 1, as torchrun sets it): gloo, DistributedDataParallel over the
model, a DistributedSampler, the regularizer on the wrapped model. `batch_size` is the global
batch: each of the N processes takes batch_size/N, so one process and N processes follow the
same recipe (and, for a model without BatchNorm or dropout, the same weights). Each rank keeps
its own BatchNorm running statistics during an epoch (training uses batch statistics); at the
end of every epoch they are averaged over the ranks, so the ranks evaluate and end identical.
The test set is split over the ranks and the counts summed. Only rank 0 prints and writes.
"""
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import checkpoint as ckpt
from . import safetensors

ENGINE_KEYS = ("format", "oicsr.architecture", "oicsr.normalization", "oicsr.dataset", "oicsr.class_names",
               "oicsr.regularizer", "oicsr.lambda", "oicsr.recipe", "oicsr.metrics", "oicsr.epoch")
REGULARIZERS = ("l2", "gl", "oicsr-gl", "l1-bn")
AUGMENTATIONS = ("auto", "none", "crop-flip")


class FinetuneError(ValueError):
    """An argument or file fine-tuning cannot use; the message says which and why."""


@dataclass
class Options:
    checkpoint: str
    data: str
    out: str
    model: str = "none"
    epochs: int = 1
    lr: float = 0.01
    batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4
    reg: str = "l2"
    lam: float = None
    reg_step: str = "proximal"
    coupled: bool = False
    seed: int = 1
    augment: str = "auto"
    force: bool = False
    log: object = print


@dataclass
class Data:
    """Images U8 (N, H, W, C) and labels I64 (N) per split, as `export-data` writes them."""
    name: str
    class_names: list
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


@dataclass
class Result:
    model: torch.nn.Module
    epochs: list = field(default_factory=list)   # [{"epoch", "lr", "train_loss", "train_accuracy", "loss", "top1"}]
    before: dict = None                          # {"loss", "top1", "correct", "count"} as loaded
    wrote: bool = False


# -- inputs -----------------------------------------------------------------------------------

def read_data(path, architecture):
    """The data file `path`, checked against the architecture's input size and classes."""
    try:
        tensors, metadata = safetensors.read(path)
    except FileNotFoundError:
        raise FinetuneError(f"--data: no file {path}") from None
    except (OSError, ValueError) as error:
        raise FinetuneError(f"--data: {error}") from None
    channels, height, width = architecture.input
    split = {}
    for part in ("train", "test"):
        images, labels = tensors.get(f"{part}.images"), tensors.get(f"{part}.labels")
        if images is None or labels is None:
            raise FinetuneError(f"--data: {path} is not a data file of `export-data`: it lacks '{part}.images' or "
                                f"'{part}.labels'")
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise FinetuneError(f"--data: {path}: '{part}.images' must be U8 (N, H, W, C), found "
                                f"{safetensors.NAMES.get(images.dtype, images.dtype)} {tuple(images.shape)}")
        if tuple(images.shape[1:]) != (height, width, channels):
            raise FinetuneError(f"--data: {path}: images of {images.shape[1]}x{images.shape[2]} with {images.shape[3]} "
                                f"channels, the model takes {height}x{width} with {channels} (export-data --input "
                                f"{channels}x{height}x{width})")
        if labels.dtype != torch.int64 or tuple(labels.shape) != (images.shape[0],):
            raise FinetuneError(f"--data: {path}: '{part}.labels' must be I64 ({images.shape[0]}), found "
                                f"{safetensors.NAMES.get(labels.dtype, labels.dtype)} {tuple(labels.shape)}")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= architecture.classes):
            raise FinetuneError(f"--data: {path}: '{part}.labels' run from {int(labels.min())} to {int(labels.max())}, "
                                f"the model has {architecture.classes} classes")
        split[part] = (images, labels)
    if split["train"][1].numel() == 0:
        raise FinetuneError(f"--data: {path} has no training images")
    try:
        class_names = json.loads(metadata.get("oicsr.class_names", "[]"))
    except json.JSONDecodeError:
        class_names = []
    return Data(metadata.get("oicsr.dataset", "unknown"), class_names, *split["train"], *split["test"])


def normalize(images, normalization):
    """U8 (N, H, W, C) pixels to the model's input, F32 (N, C, H, W): (pixel/255 − mean)/std."""
    x = images.permute(0, 3, 1, 2).to(torch.float32).div_(255)
    mean = torch.tensor(normalization["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(normalization["std"], dtype=torch.float32).view(1, -1, 1, 1)
    return x.sub_(mean).div_(std)


def crop_flip(images, generator, pad=4):
    """oicsr's CIFAR augmentation on U8 (N, H, W, C): pad every side with `pad` zero pixels
    (before normalising, as torchvision), cut an H×W window at a uniform offset, mirror with
    probability 1/2."""
    n, h, w, _ = images.shape
    padded = F.pad(images.permute(0, 3, 1, 2), (pad, pad, pad, pad)).permute(0, 2, 3, 1)
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5
    out = torch.empty_like(images)
    for i in range(n):
        y, x = int(offsets[i, 0]), int(offsets[i, 1])
        crop = padded[i, y:y + h, x:x + w]
        out[i] = crop.flip(1) if flips[i] else crop
    return out


def source_recipe(checkpoint):
    """The checkpoint's recipe, from `oicsr.recipe` or the older `oicsr.regularizer` and `oicsr.lambda`."""
    recipe = checkpoint.recipe
    if "regularizer" not in recipe:
        metadata = checkpoint.metadata
        try:
            lam = float(metadata.get("oicsr.lambda", "0"))
        except ValueError:
            lam = 0.0
        recipe["regularizer"] = {"kind": metadata.get("oicsr.regularizer", "l2"), "lambda": lam, "step": "proximal",
                                 "coupled": False}
    return recipe


def cosine(base, step, total):
    """oicsr's cosine schedule: a half-cosine from `base` to zero over `total` steps."""
    return base * 0.5 * (1 + math.cos(math.pi * step / max(total, 1)))


def _finite(value):
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


# -- distribution -----------------------------------------------------------------------------

def _world():
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def _rank():
    return int(os.environ.get("RANK", "0") or 0)


def _all_sum(values):
    """`values` (floats) summed over the ranks, in float64."""
    tensor = torch.tensor(values, dtype=torch.float64)
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(tensor)
    return tensor.tolist()


def _average_buffers(module, world):
    """BatchNorm running statistics (every floating-point buffer) averaged over the ranks."""
    if world == 1:
        return
    with torch.no_grad():
        for buffer in module.buffers():
            if buffer.is_floating_point():
                torch.distributed.all_reduce(buffer)
                buffer.div_(world)


# -- the run ----------------------------------------------------------------------------------

def prepare(options):
    """Everything that can be checked before any process group exists: (checkpoint, data,
    model loaded at the checkpoint's widths). Raises FinetuneError."""
    from .load import LoadError, load
    from .models import ModelError, build
    o = options
    if o.epochs < 1:
        raise FinetuneError(f"--epochs: {o.epochs}; at least 1")
    if not (o.lr > 0 and math.isfinite(o.lr)):
        raise FinetuneError(f"--lr: {o.lr}; a positive number")
    if o.batch_size < 1:
        raise FinetuneError(f"--batch-size: {o.batch_size}; at least 1")
    if o.momentum < 0 or o.weight_decay < 0:
        raise FinetuneError("--momentum and --weight-decay must not be negative")
    world = _world()
    if o.batch_size % world:
        raise FinetuneError(f"--batch-size {o.batch_size} is the global batch: it must divide among the {world} processes")
    if o.reg not in REGULARIZERS:
        raise FinetuneError(f"--reg: '{o.reg}'; one of {', '.join(REGULARIZERS)}")
    if o.reg == "l2":
        if o.lam is not None:
            raise FinetuneError("--lambda: the l2 regularizer is weight decay only; --lambda goes with --reg gl, "
                                "oicsr-gl or l1-bn")
    elif o.lam is None or not (o.lam >= 0 and math.isfinite(o.lam)):
        raise FinetuneError(f"--reg {o.reg} needs --lambda, a number at least 0")
    if o.reg_step not in ("proximal", "subgradient"):
        raise FinetuneError(f"--reg-step: '{o.reg_step}'; proximal or subgradient")
    if o.augment not in AUGMENTATIONS:
        raise FinetuneError(f"--augment: '{o.augment}'; one of {', '.join(AUGMENTATIONS)}")
    if os.path.exists(o.out) and not o.force:
        raise FinetuneError(f"--out: {o.out} exists; pass --force to replace it")
    if os.path.isdir(o.out):
        raise FinetuneError(f"--out: {o.out} is a folder")
    folder = os.path.dirname(os.path.abspath(o.out))
    if not os.path.isdir(folder):
        raise FinetuneError(f"--out: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise FinetuneError(f"--out: cannot write in {folder}")
    if not os.path.isfile(o.checkpoint):
        raise FinetuneError(f"no checkpoint {o.checkpoint}")
    try:
        checkpoint = ckpt.read(o.checkpoint)
    except (OSError, ValueError) as error:
        raise FinetuneError(str(error)) from None
    data = read_data(o.data, checkpoint.architecture)
    try:
        model = None if o.model in ("none", "") else build(o.model, num_classes=checkpoint.architecture.classes)
        model = load(model, o.checkpoint)
    except (ModelError, LoadError, ckpt.CheckpointError) as error:
        raise FinetuneError(f"--model {o.model}: {error}") from None
    except ImportError as error:
        raise FinetuneError(f"--model {o.model}: {error}") from None
    return checkpoint, data, model


def evaluate(module, data, normalization, rank=0, world=1, batch_size=256):
    """Test loss and top-1 in evaluation mode; with several ranks each takes every world-th
    image and the sums are all-reduced. {"loss", "top1", "correct", "count"}."""
    mode = module.training
    module.eval()
    indices = torch.arange(rank, len(data.test_labels), world)
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            chosen = indices[start:start + batch_size]
            logits = module(normalize(data.test_images[chosen], normalization))
            labels = data.test_labels[chosen]
            loss_sum += F.cross_entropy(logits.double(), labels, reduction="sum").item()
            correct += int((logits.argmax(1) == labels).sum())
    module.train(mode)
    loss_sum, correct, count = _all_sum([loss_sum, correct, len(indices)])
    count = int(count)
    return {"loss": loss_sum / max(count, 1), "top1": correct / max(count, 1), "correct": int(correct), "count": count}


def output_metadata(checkpoint, options, final, train, epochs_run):
    """(regularizer, lambda, extra metadata) of the fine-tuned checkpoint: the source's
    `oicsr.` entries, its recipe with `fine_tuning` advanced, its metrics with the new figures."""
    o = options
    recipe = source_recipe(checkpoint)
    if o.reg != "l2":
        recipe["regularizer"] = {"kind": o.reg, "lambda": float(o.lam), "step": o.reg_step, "coupled": bool(o.coupled)}
    before = recipe.get("fine_tuning") or {}
    recipe["fine_tuning"] = {"epochs": int(before.get("epochs", 0) or 0) + epochs_run, "lr": float(o.lr)}
    try:
        metrics = json.loads(checkpoint.metadata.get("oicsr.metrics", "{}"))
        if not isinstance(metrics, dict):
            metrics = {}
    except json.JSONDecodeError:
        metrics = {}
    metrics.update({"top1": _finite(final["top1"]), "loss": _finite(final["loss"]),
                    "train_loss": _finite(train["train_loss"]), "train_accuracy": _finite(train["train_accuracy"])})
    extra = {k: v for k, v in checkpoint.metadata.items() if k.startswith("oicsr.") and k not in ENGINE_KEYS}
    extra["oicsr.recipe"] = json.dumps(recipe, sort_keys=True)
    extra["oicsr.metrics"] = json.dumps(metrics, sort_keys=True)
    regularizer = recipe["regularizer"]
    return regularizer.get("kind", "l2"), float(regularizer.get("lambda", 0) or 0), extra


def run(options, prepared=None):
    """Fine-tunes per `options` (distributed when WORLD_SIZE > 1, the process group is then
    created here and destroyed at the end) and writes `options.out` on rank 0. Returns a Result
    whose model is the bare fine-tuned module (every rank holds the same)."""
    from .regularizer import OICSR
    o, log = options, options.log
    checkpoint, data, model = prepared or prepare(o)
    world = _world()
    distributed = world > 1
    if distributed and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo")
    try:
        rank = torch.distributed.get_rank() if distributed else 0
        say = log if rank == 0 else (lambda *a, **k: None)
        return _train(o, checkpoint, data, model, rank, world, say, OICSR)
    finally:
        if distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _train(o, checkpoint, data, bare, rank, world, say, OICSR):
    architecture, normalization = checkpoint.architecture, checkpoint.normalization
    torch.manual_seed(o.seed + rank)   # dropout and stochastic depth differ between ranks, as their data do
    bare.train()
    if world > 1:
        # A resized 1x1 convolution's gradient comes with other (equivalent) strides than its
        # weight; DDP notes it once per process. Harmless, and nothing the user can act on.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        model = torch.nn.parallel.DistributedDataParallel(bare, broadcast_buffers=False)
    else:
        model = bare
    reg = None
    if o.reg != "l2":
        reg = OICSR(model, o.lam, kind=o.reg, step=o.reg_step, coupled=o.coupled, architecture=architecture)
    optimizer = torch.optim.SGD(model.parameters(), lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    sampler = torch.utils.data.DistributedSampler(range(len(data.train_labels)), num_replicas=world, rank=rank,
                                                  shuffle=True, seed=o.seed, drop_last=False)
    local_batch = o.batch_size // world
    per_rank = len(sampler)
    steps_per_epoch = math.ceil(per_rank / local_batch)
    if per_rank % local_batch == 1 and local_batch > 1 and steps_per_epoch > 1:
        steps_per_epoch -= 1    # a last batch of one image is left out: BatchNorm needs two
    total_steps = steps_per_epoch * o.epochs
    augment = o.augment == "crop-flip" or (o.augment == "auto" and data.name.startswith("cifar"))
    generator = torch.Generator().manual_seed(o.seed * 1_000_003 + rank)
    parameters = sum(p.numel() for p in bare.parameters())
    say(f"fine-tuning {o.checkpoint} ('{architecture.name}', {parameters:,} parameters) as "
        f"{o.model if o.model not in ('', 'none') else 'the architecture interpreter'} on {len(data.train_labels)} "
        f"training images of '{data.name}'{', crop and flip' if augment else ''}: {o.epochs} epoch(s) of "
        f"{steps_per_epoch} steps, batch {o.batch_size}" + (f" ({world} processes of {local_batch})" if world > 1 else "")
        + f", lr {o.lr:g} cosine, momentum {o.momentum:g}, weight decay {o.weight_decay:g}, regularizer {o.reg}"
        + (f" λ {o.lam:g} {o.reg_step}" if reg else ""), flush=True)
    before = evaluate(bare, data, normalization, rank, world)
    say(f"as loaded: test loss {before['loss']:.4f}, top-1 {before['top1'] * 100:.2f}% "
        f"({before['correct']}/{before['count']})", flush=True)
    result = Result(model=bare, before=before)
    step = 0
    train = {"train_loss": float("nan"), "train_accuracy": float("nan")}
    final = before
    for epoch in range(o.epochs):
        started = time.time()
        sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(sampler)), dtype=torch.int64)
        loss_sum, correct, seen = 0.0, 0, 0
        first_lr = cosine(o.lr, step, total_steps)
        for b in range(steps_per_epoch):
            chosen = order[b * local_batch:(b + 1) * local_batch]
            images = data.train_images[chosen]
            if augment:
                images = crop_flip(images, generator)
            x, y = normalize(images, normalization), data.train_labels[chosen]
            lr = cosine(o.lr, step, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            if reg is not None:
                reg.add_subgradient()
            optimizer.step()
            if reg is not None:
                reg.proximal_step(lr)
            step += 1
            loss_sum += loss.item() * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += len(y)
        _average_buffers(bare, world)
        loss_sum, correct, seen = _all_sum([loss_sum, correct, seen])
        train = {"train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1)}
        final = evaluate(bare, data, normalization, rank, world)
        record = {"epoch": epoch + 1, "lr": first_lr, **train, "loss": final["loss"], "top1": final["top1"]}
        result.epochs.append(record)
        penalty = f", penalty {reg.penalty():.4g}" if reg else ""
        say(f"epoch {epoch + 1}/{o.epochs}: lr {first_lr:.4g}, train loss {train['train_loss']:.4f} "
            f"(accuracy {train['train_accuracy'] * 100:.2f}%){penalty}; test loss {final['loss']:.4f}, top-1 "
            f"{final['top1'] * 100:.2f}% ({final['correct']}/{final['count']}), {time.time() - started:.1f}s", flush=True)
    broken = [n for n, t in bare.state_dict().items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if broken:   # every rank holds the same weights, so every rank stops here
        raise FinetuneError(f"training diverged (train loss {train['train_loss']:.4g}): '{broken[0]}' holds NaN or "
                            f"infinite values; nothing was written (try a lower --lr)")
    if rank == 0:
        regularizer, lam, extra = output_metadata(checkpoint, o, final, train, o.epochs)
        ckpt.write(o.out, architecture, bare.state_dict(), normalization=normalization, dataset=checkpoint.dataset,
                   class_names=checkpoint.class_names, regularizer=regularizer, lam=lam, extra=extra)
        result.wrote = True
        say(f"wrote {o.out}: test top-1 {final['top1'] * 100:.2f}%, loss {final['loss']:.4f}", flush=True)
    if world > 1:
        torch.distributed.barrier()
    bare.eval()
    return result
