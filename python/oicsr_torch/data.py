"""Exports images for oicsr's `--data FILE`: one safetensors file with

    train.images  U8  (N, H, W, C)  pixels 0-255, NHWC
    train.labels  I64 (N)
    test.images   U8  (M, H, W, C)
    test.labels   I64 (M)

and metadata `oicsr.dataset` (the name) and `oicsr.class_names` (a JSON list). Images are
resized (shorter side to max(H, W)) and center-cropped to H×W; normalisation is not applied
here (it comes from the model's checkpoint).

Sources: `torchvision:NAME` (a torchvision.datasets class with train=True/False, e.g.
CIFAR10, read from --root, never downloaded), `imagefolder:DIR` (DIR/train and DIR/test (or
val) when present, else DIR split at random) and `fake` (torchvision's FakeData).
"""
import json
import os

import torch

from . import safetensors


class DataError(ValueError):
    """A data source that cannot be read; the message names it."""


def _transform(shape):
    from torchvision import transforms
    channels, height, width = shape
    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise DataError(f"images of {channels} channels: only 1 (grey) and 3 (RGB) are supported")
    return transforms.Compose([
        transforms.Lambda(lambda image: image.convert(mode)),
        transforms.Resize(max(height, width)),
        transforms.CenterCrop((height, width)),
        transforms.PILToTensor(),
    ])


def open_source(source, shape, root=None, seed=0, counts=(0, 0)):
    """(train dataset, test dataset, name, class names) for a source string."""
    import torchvision.datasets as datasets
    transform = _transform(shape)
    if source == "fake":
        total = counts[0] + counts[1]
        full = datasets.FakeData(size=max(total, 1), image_size=tuple(shape), num_classes=10, transform=transform,
                                 random_offset=seed)
        train = torch.utils.data.Subset(full, range(counts[0]))
        test = torch.utils.data.Subset(full, range(counts[0], total))
        return train, test, "fake", [str(i) for i in range(10)]
    kind, _, where = source.partition(":")
    if kind == "torchvision":
        cls = getattr(datasets, where, None)
        if cls is None or not isinstance(cls, type):
            raise DataError(f"data '{source}': torchvision.datasets has no data set '{where}'")
        if root is None:
            raise DataError(f"data '{source}': give --root, the folder that holds it (nothing is downloaded)")
        try:
            train = cls(root=root, train=True, transform=transform, download=False)
            test = cls(root=root, train=False, transform=transform, download=False)
        except (RuntimeError, OSError) as error:
            raise DataError(f"data '{source}' in {root}: {error}") from None
        names = list(getattr(train, "classes", []) or [])
        return train, test, where.lower(), names
    if kind == "imagefolder":
        if not os.path.isdir(where):
            raise DataError(f"data '{source}': no folder {where}")
        splits = {s: os.path.join(where, s) for s in ("train", "test", "val") if os.path.isdir(os.path.join(where, s))}
        if "train" in splits and ("test" in splits or "val" in splits):
            train = datasets.ImageFolder(splits["train"], transform=transform)
            test = datasets.ImageFolder(splits.get("test") or splits["val"], transform=transform)
            if train.classes != test.classes:
                raise DataError(f"data '{source}': train and test have different classes")
        else:
            full = datasets.ImageFolder(where, transform=transform)
            order = torch.randperm(len(full), generator=torch.Generator().manual_seed(seed)).tolist()
            cut = min(counts[0], len(full))
            train = torch.utils.data.Subset(full, order[:cut])
            test = torch.utils.data.Subset(full, order[cut:])
            train.classes = full.classes
        name = os.path.basename(os.path.normpath(where))
        return train, test, name, list(train.classes)
    raise DataError(f"data '{source}': expected torchvision:NAME, imagefolder:DIR or fake")


def _take(dataset, count, seed, split, source):
    if count > len(dataset):
        raise DataError(f"data '{source}': {count} {split} images asked for, the {split} split has {len(dataset)}")
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()[:count]
    images, labels = [], []
    for i in order:
        image, label = dataset[i]
        images.append(image.permute(1, 2, 0))   # CHW -> HWC
        labels.append(int(label))
    if not images:
        return None, torch.zeros(0, dtype=torch.int64)
    return torch.stack(images).to(torch.uint8).contiguous(), torch.tensor(labels, dtype=torch.int64)


def export_data(source, shape, train, test, path, root=None, seed=0):
    """Writes `train` and `test` images of `source` at `shape` (C, H, W) to `path`."""
    shape = tuple(int(d) for d in shape)
    train_set, test_set, name, class_names = open_source(source, shape, root, seed, (train, test))
    tensors = {}
    for split, dataset, count in (("train", train_set, train), ("test", test_set, test)):
        images, labels = _take(dataset, count, seed, split, source)
        if images is None:
            images = torch.zeros((0, shape[1], shape[2], shape[0]), dtype=torch.uint8)
        tensors[f"{split}.images"] = images
        tensors[f"{split}.labels"] = labels
    if not class_names:
        top = int(max([int(tensors[f"{s}.labels"].max()) for s in ("train", "test") if tensors[f"{s}.labels"].numel()] or [0]))
        class_names = [str(i) for i in range(top + 1)]
    metadata = {"oicsr.dataset": name, "oicsr.class_names": json.dumps(class_names)}
    safetensors.write(path, tensors, metadata)
    return tensors, metadata
