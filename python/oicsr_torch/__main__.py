"""Command line of the bridge: `python3 -m oicsr_torch COMMAND ...` (see python/README.md).

Exit status: 0 done; 1 a file, model or data set that cannot be used; 2 a model with an op
oicsr cannot represent, or a usage error. `finetune` checks every argument and file before it
trains, and exits 2 with one message for any it cannot use (1 when training diverges).
"""
import argparse
import json
import os
import sys
import warnings

from . import checkpoint as ckpt


def _shape(text):
    try:
        shape = tuple(int(d) for d in text.lower().replace(",", "x").split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not CxHxW (e.g. 3x224x224)")
    return shape


def _floats(text):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None


def _class_names(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        names = json.loads(text)
        if isinstance(names, list):
            return [str(n) for n in names]
    except json.JSONDecodeError:
        pass
    return [line.strip() for line in text.splitlines() if line.strip()]


def _refuse_existing(path, force):
    if os.path.exists(path) and not force:
        raise SystemExit(_usage(f"--out: {path} exists; pass --force to replace it"))


def _usage(message):
    print(f"oicsr_torch: error: {message}", file=sys.stderr)
    return 2


def command_export(args):
    from .export import export
    from .groups import ChannelGroups, layer_macs
    from .models import build, load_weights
    _refuse_existing(args.out, args.force)
    model = build(args.model, num_classes=args.classes)
    if args.weights:
        load_weights(model, args.weights)
    channels = args.input[0]
    torchvision_model = args.model.startswith("torchvision:")
    default = ckpt.IMAGENET if torchvision_model and channels == 3 else {"mean": [0.0] * channels, "std": [1.0] * channels}
    normalization = {"mean": args.mean or default["mean"], "std": args.std or default["std"]}
    for key in ("mean", "std"):
        if len(normalization[key]) != channels:
            return _usage(f"--{key}: {len(normalization[key])} values for {channels} input channels")
    dataset = args.dataset or ("imagenet" if torchvision_model and not args.classes else "unknown")
    class_names = _class_names(args.class_names) if args.class_names else None
    name = args.name or args.model.rsplit(":", 1)[1]
    traced = export(model, args.input, args.out, name=name, normalization=normalization, dataset=dataset,
                    class_names=class_names, method=args.trace)
    architecture = traced.architecture
    groups = ChannelGroups(architecture)
    print(f"wrote {args.out}: '{architecture.name}', {len(architecture.layers)} layers, {architecture.classes} classes, "
          f"{sum(layer_macs(architecture).values()):,} MACs per {'x'.join(map(str, args.input))} input, "
          f"{len(groups.groups)} prunable groups ({groups.total_channels} channels); traced with {traced.method}")
    return 0


def command_export_data(args):
    from .data import export_data
    _refuse_existing(args.out, args.force)
    tensors, metadata = export_data(args.source, args.input, args.train, args.test, args.out, root=args.root, seed=args.seed)
    print(f"wrote {args.out}: {len(tensors['train.labels'])} training and {len(tensors['test.labels'])} test images of "
          f"{'x'.join(map(str, args.input))}, data set '{metadata['oicsr.dataset']}', "
          f"{len(json.loads(metadata['oicsr.class_names']))} classes")
    return 0


def command_load(args):
    import torch
    from .load import load
    from .models import build
    checkpoint = ckpt.read(args.checkpoint)
    architecture = checkpoint.architecture
    model = build(args.model, num_classes=architecture.classes) if args.model else None
    model = load(model, args.checkpoint)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"loaded {args.checkpoint} into {args.model or 'the architecture interpreter'}: {parameters:,} parameters, "
          f"forward pass at {'x'.join(map(str, architecture.input))} checked")
    if args.out:
        temporary = args.out + ".tmp"
        torch.save(model.state_dict(), temporary)
        os.replace(temporary, args.out)
        print(f"wrote {args.out}")
    if args.onnx:
        export_onnx(model, architecture, args.onnx)
        print(f"wrote {args.onnx}")
    return 0


def export_onnx(model, architecture, path):
    """ONNX of `model` at the architecture's input size, with a free batch dimension."""
    import torch
    model.eval()
    example = torch.zeros((1,) + tuple(architecture.input))
    temporary = path + ".tmp"
    torch.onnx.export(model, example, temporary, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14)
    os.replace(temporary, path)


def command_finetune(args):
    from .finetune import FinetuneError, Options, prepare, run
    options = Options(checkpoint=args.checkpoint, data=args.data, out=args.out, model=args.model, epochs=args.epochs,
                      lr=args.lr, batch_size=args.batch_size, momentum=args.momentum, weight_decay=args.weight_decay,
                      reg=args.reg, lam=args.lam, reg_step=args.reg_step, coupled=args.coupled, seed=args.seed,
                      augment=args.augment, force=args.force)
    try:
        prepared = prepare(options)
    except FinetuneError as error:
        if int(os.environ.get("RANK", "0") or 0) == 0:   # every rank finds the same; one says it
            print(f"oicsr_torch: error: {error}", file=sys.stderr)
        return 2
    try:
        run(options, prepared)
    except FinetuneError as error:
        if int(os.environ.get("RANK", "0") or 0) == 0:
            print(f"oicsr_torch: error: {error}", file=sys.stderr)
        return 1
    return 0


def command_groups(args):
    from .architecture import Architecture
    from .export import trace
    from .groups import ChannelGroups, describe, macs_shares
    from .models import build
    if args.model.endswith(".safetensors"):
        architecture = ckpt.read(args.model).architecture
    elif args.model.endswith(".json"):
        with open(args.model, encoding="utf-8") as f:
            architecture = Architecture.parse(f.read())
    else:
        if args.input is None:
            return _usage("--input CxHxW is needed to trace a model")
        architecture = trace(build(args.model, num_classes=args.classes), args.input,
                             name=args.model.rsplit(":", 1)[1]).architecture
    groups = ChannelGroups(architecture, coupled=args.coupled)
    if args.json:
        print(groups.to_json())
        return 0
    print(f"{architecture.name}: {len(groups.groups)} prunable groups, {groups.total_channels} channels")
    shares = macs_shares(groups)
    for g in groups.groups:
        print(f"{g.id:3d}  {g.name}  {g.width} channels, {shares[g.id] * 100:.1f}% of MACs" + ("  (coupled)" if g.coupled else ""))
        print("       out: " + ", ".join(g.producers + [describe(s) for s in g.depthwise + g.batchnorms]))
        print("       in:  " + ", ".join(describe(s) for s in g.consumers))
    if groups.fixed:
        print("not pruned:")
        for name, reason in groups.fixed:
            print(f"     {name}: {reason}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python3 -m oicsr_torch",
                                description="The PyTorch bridge of oicsr: export, load back, fine-tune, groups.")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="trace a PyTorch CNN and write it as an oicsr checkpoint")
    e.add_argument("model", help="torchvision:NAME, package.module:FACTORY or file.py:FACTORY")
    e.add_argument("--input", type=_shape, required=True, help="input size CxHxW, e.g. 3x224x224")
    e.add_argument("--weights", help="state_dict file (.pt/.pth, or .safetensors); 'module.' prefixes are removed")
    e.add_argument("--classes", type=int, help="pass num_classes=N to the model's factory")
    e.add_argument("--mean", type=_floats, help="input mean per channel (default ImageNet's for torchvision: models, else 0)")
    e.add_argument("--std", type=_floats, help="input std per channel (default ImageNet's for torchvision: models, else 1)")
    e.add_argument("--dataset", help="the data set's name (default imagenet for torchvision: models, else unknown)")
    e.add_argument("--class-names", help="file of class names, one per line or a JSON list (default 0..N-1)")
    e.add_argument("--name", help="the architecture's name (default the model's)")
    e.add_argument("--trace", choices=("auto", "fx", "eager"), default="auto",
                   help="torch.fx, one recorded eager run, or fx with the eager run where fx fails (default)")
    e.add_argument("--out", required=True, help="the checkpoint to write (.safetensors)")
    e.add_argument("--force", action="store_true", help="replace --out if it exists")
    e.set_defaults(run=command_export)

    d = sub.add_parser("export-data", help="write images and labels for oicsr's --data FILE")
    d.add_argument("source", help="torchvision:NAME (with --root), imagefolder:DIR or fake")
    d.add_argument("--root", help="folder of a torchvision data set (nothing is downloaded)")
    d.add_argument("--input", type=_shape, required=True, help="the model's input size CxHxW")
    d.add_argument("--train", type=int, required=True, help="training images to write")
    d.add_argument("--test", type=int, required=True, help="test images to write")
    d.add_argument("--seed", type=int, default=0, help="which images are drawn (default 0)")
    d.add_argument("--out", required=True)
    d.add_argument("--force", action="store_true", help="replace --out if it exists")
    d.set_defaults(run=command_export_data)

    l = sub.add_parser("load", help="load a (pruned) checkpoint into a PyTorch model and check it")
    l.add_argument("checkpoint")
    l.add_argument("--model", help="the model's class (torchvision:NAME, ...); default: the architecture interpreter")
    l.add_argument("--out", help="write the loaded model's state_dict (torch.save)")
    l.add_argument("--onnx", help="export the loaded model to ONNX")
    l.set_defaults(run=command_load)

    f = sub.add_parser("finetune", help="fine-tune a (pruned) checkpoint in PyTorch and write it back as a checkpoint",
                       description="Fine-tune an oicsr checkpoint in PyTorch (SGD, momentum, weight decay, cosine, "
                                   "as oicsr's trainer; the OICSR regularizer with --reg) and write the result as an "
                                   "oicsr checkpoint. Under torchrun (WORLD_SIZE > 1): DistributedDataParallel over "
                                   "gloo; rank 0 writes --out. "
                                   "torchrun --nproc_per_node 2 -m oicsr_torch finetune ...")
    f.add_argument("checkpoint", help="the oicsr checkpoint to fine-tune (.safetensors)")
    f.add_argument("--model", required=True,
                   help="the model's class, resized to the checkpoint's widths (torchvision:NAME, package.module:CLASS, "
                        "file.py:CLASS), or 'none' for the architecture interpreter")
    f.add_argument("--data", required=True, help="a data file of `export-data` (train and test images and labels)")
    f.add_argument("--epochs", type=int, default=1, help="epochs (default 1)")
    f.add_argument("--lr", type=float, default=0.01, help="base learning rate, cosine to zero (default 0.01)")
    f.add_argument("--batch-size", type=int, default=128,
                   help="global batch: with N processes each takes 1/N of it (default 128)")
    f.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    f.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay on every parameter (default 5e-4)")
    f.add_argument("--reg", choices=("l2", "gl", "oicsr-gl", "l1-bn"), default="l2",
                   help="sparsity regularizer (l2: weight decay only, the default)")
    f.add_argument("--lambda", dest="lam", type=float, help="λ of the regularizer (needed with gl, oicsr-gl, l1-bn)")
    f.add_argument("--reg-step", choices=("proximal", "subgradient"), default="proximal",
                   help="proximal (soft-threshold after each step, the default) or subgradient")
    f.add_argument("--coupled", action="store_true", help="regularize the residual channels coupled across a stage too")
    f.add_argument("--augment", choices=("auto", "none", "crop-flip"), default="auto",
                   help="training augmentation: 4-pixel pad, random crop and flip; auto (the default): for data sets "
                        "named cifar*, as oicsr")
    f.add_argument("--seed", type=int, default=1, help="seed of shuffling, augmentation and dropout (default 1)")
    f.add_argument("--out", required=True, help="the fine-tuned checkpoint to write (rank 0 only)")
    f.add_argument("--force", action="store_true", help="replace --out if it exists")
    f.set_defaults(run=command_finetune)

    g = sub.add_parser("groups", help="the channel groups of a checkpoint, architecture JSON or model")
    g.add_argument("model", help="a checkpoint, an architecture .json, or a model to trace (with --input)")
    g.add_argument("--input", type=_shape)
    g.add_argument("--classes", type=int)
    g.add_argument("--coupled", action="store_true", help="also offer the channels joined by residual sums")
    g.add_argument("--json", action="store_true")
    g.set_defaults(run=command_groups)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    from .export import ExportError
    warnings.simplefilter("default")
    warnings.formatwarning = lambda message, *_: f"oicsr_torch: note: {message}\n"
    try:
        return args.run(args)
    except ExportError as error:
        print(f"oicsr_torch: {error}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        print(f"oicsr_torch: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
