#!/usr/bin/env python3
"""The PyTorch side of `oicsr bench`: the same measurements on the reference modules, on
the CPU, for a comparison on one machine.

    python3 scripts/pytorch_bench.py [--seconds 2] [--threads 2] [--models convnet-s,resnet20] [--cpu-time]
                                     [--pruned MODEL=W1,W2,... ...]

Training: batch 128, one SGD step (forward, cross-entropy, backward, update); inference:
batch 256 in eval mode under no_grad; latency: batch 1. Inputs 1x28x28 and 10 classes
(resnet18: 3x64x64, 1000 classes; reference/torch_models.py INPUTS), NCHW
(PyTorch's default layout; oneDNN picks its own blocked layout inside each convolution).
--pruned measures a model at the widths pruning leaves (as `oicsr bench --widths`: convnet-s's
five conv widths, a ResNet's inner width of every block); its row carries them as "widths".
--cpu-time times by the process's CPU time (all threads) instead of elapsed time, as
`oicsr bench --cpu-time`: at one thread, the work done, which other load disturbs far less.
"""
import argparse, json, os, sys, time

import torch

clock = time.perf_counter

def best(seconds, fn, minimum=3):
    fn()
    best_t, start, runs = float("inf"), time.perf_counter(), 0
    while runs < minimum or time.perf_counter() - start < seconds:
        t0 = clock(); fn(); best_t = min(best_t, clock() - t0); runs += 1
    return best_t

def pruned_widths(name, widths):
    """The reference module's keyword for pruned widths, as `oicsr bench --widths` reads them."""
    if widths is None:
        return {}
    if name == "convnet-s":
        return {"widths": tuple(widths)}
    if name in ("resnet20", "resnet56"):
        return {"inner": widths}
    sys.exit(f"--pruned {name}: widths apply to convnet-s, resnet20 and resnet56")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="convnet-s,resnet20")
    parser.add_argument("--cpu-time", action="store_true")
    parser.add_argument("--pruned", nargs="*", default=[], metavar="MODEL=W1,W2,...")
    parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "..", "reference"))
    args = parser.parse_args()
    global clock
    if args.cpu_time:
        clock = time.process_time
    sys.path.insert(0, args.reference)
    import torch_models
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    gemm = 2 * n ** 3 / best(args.seconds / 2, lambda: torch.mm(a, b)) / 1e9
    rows = []
    measured = [(name, None) for name in args.models.split(",") if name]
    for spec in args.pruned:
        name, _, widths = spec.partition("=")
        measured.append((name, [int(w) for w in widths.split(",")]))
    for name, widths in measured:
        model = torch_models.build(name, **pruned_widths(name, widths))
        shape = torch_models.INPUTS[name]
        macs = torch_models.macs(model, (1, *shape))
        classes = model.fc.out_features
        opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)
        x, y = torch.randn(128, *shape), torch.randint(0, classes, (128,))
        def step():
            opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
        model.train()
        train = best(args.seconds, step)
        model.eval()
        xi, x1 = torch.randn(256, *shape), torch.randn(1, *shape)
        with torch.no_grad():
            infer = best(args.seconds, lambda: model(xi))
            latency = best(args.seconds / 2, lambda: model(x1), minimum=20)
        rows.append({"model": name, "macs": macs, "trainImagesPerSecond": 128 / train,
                     "inferenceImagesPerSecond": 256 / infer, "latencyMilliseconds": latency * 1000}
                    | ({"widths": widths} if widths else {}))
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "",
                      "mmGFLOPs": gemm, "models": rows}, indent=2))

if __name__ == "__main__":
    main()
