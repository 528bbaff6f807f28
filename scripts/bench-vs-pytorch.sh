#!/usr/bin/env bash
# oicsr against PyTorch on the same CPU, in one run: rounds of `oicsr bench` and
# scripts/pytorch_bench.py alternate on the same models and shapes, and each figure is the
# best over the rounds (the least disturbed by other load on a shared machine).
#
#   scripts/bench-vs-pytorch.sh [--seconds S] [--rounds R] [--models LIST] [--threads T]
#                               (LIST: convnet-s, resnet20, resnet56 at 1x28x28; resnet18 at 3x64x64)
#                               [--python PATH] [--cpu-time] [--also-native-blas] [--baseline BIN]
#                               [--pruned MODEL=W1,W2,...]...
#
# PyTorch: --python, else $OICSR_TORCH_PYTHON, else ~/.cache/oicsr-torch-venv/bin/python if it
# exists, else /usr/bin/python3 (Debian's python3-torch). The figures of record use PyTorch's
# CPU-only wheel (2.13.0+cpu: oneDNN and MKL with AVX-512, no GPU libraries) in that private
# venv, made with `python3.11 -m venv ~/.cache/oicsr-torch-venv` and
# `~/.cache/oicsr-torch-venv/bin/pip install torch-2.13.0+cpu-cp311-…whl`; never used by tests or CI.
#
# Both sides use T threads (default 2): oicsr through OICSR_THREADS, PyTorch through
# torch.set_num_threads. --cpu-time times both by the process's CPU time instead of elapsed
# time: with --threads 1 it compares the work each does, which a loaded machine disturbs far
# less than elapsed time (the 2-thread figures of record are elapsed time). --also-native-blas adds a column for oicsr with OPENBLAS_CORETYPE
# unset (OpenBLAS picks its kernels for the processor, AVX-512 where it has it); the figures
# of record keep the environment as it is. --baseline adds a column for another oicsr binary
# (the build before a change: `git worktree add /tmp/before REV`, then `swift build -c
# release` there), run in the same rounds, so a change's ratios before and after come from one
# run. --pruned (repeatable) also measures MODEL at the widths pruning leaves (as `oicsr bench
# --widths`: convnet-s's five conv widths, a ResNet's inner width of every block) on both
# sides, with MODEL itself, and prints how much of the MACs ratio each engine's speed-up
# keeps: the payoff of pruning, engine by engine.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=2 rounds=2 models=convnet-s,resnet20,resnet56 threads=2 native=0 cpu=() baseline= pruned=()
python=${OICSR_TORCH_PYTHON:-}
if [ -z "$python" ]; then
    if [ -x "$HOME/.cache/oicsr-torch-venv/bin/python" ]; then python=$HOME/.cache/oicsr-torch-venv/bin/python; else python=/usr/bin/python3; fi
fi
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --models) models=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --also-native-blas) native=1; shift ;;
        --cpu-time) cpu=(--cpu-time); shift ;;
        --baseline) baseline=$2; shift 2 ;;
        --pruned)
            [[ $2 =~ ^(convnet-s|resnet20|resnet56)=[0-9]+(,[0-9]+)*$ ]] \
                || { echo "--pruned $2: expected MODEL=W1,W2,... with MODEL convnet-s, resnet20 or resnet56" >&2; exit 2; }
            pruned+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
# A pruned model's payoff is measured against the model whole, in the same rounds.
for spec in "${pruned[@]}"; do
    [[ ",$models," == *",${spec%%=*},"* ]] || models+=",${spec%%=*}"
done
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product oicsr >&2
bin=$(swift build -c release --show-bin-path)/oicsr
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Models oicsr has no built-in for (resnet18 at 3x64x64) are the reference modules of
# reference/torch_models.py, exported with the bridge (Debian's python3-torch), so both
# sides run the same network.
oicsr_models=()
for model in ${models//,/ }; do
    case "$model" in
        convnet-s|resnet20|resnet56) oicsr_models+=("$model") ;;
        *)
            input=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, 'reference'); import torch_models; print('x'.join(map(str, torch_models.INPUTS['$model'])))")
            PYTHONPATH=python /usr/bin/python3 -m oicsr_torch export "reference/torch_models.py:$model" --input "$input" \
                --name "$model" --out "$out/$model.safetensors" >&2
            oicsr_models+=("$out/$model.safetensors") ;;
    esac
done
oicsr_list=$(IFS=,; echo "${oicsr_models[*]}")
for round in $(seq 1 "$rounds"); do
    echo "round $round/$rounds: oicsr" >&2
    OICSR_THREADS=$threads "$bin" bench --json --seconds "$seconds" --models "$oicsr_list" \
        --phases train,inference,latency,convolution "${cpu[@]}" > "$out/oicsr.$round.json"
    # The pruned widths right after the model whole, so both see the machine at the same pace.
    for i in "${!pruned[@]}"; do
        echo "round $round/$rounds: oicsr, ${pruned[$i]}" >&2
        OICSR_THREADS=$threads "$bin" bench --json --seconds "$seconds" --models "${pruned[$i]%%=*}" --widths "${pruned[$i]#*=}" \
            --phases train,inference,latency "${cpu[@]}" > "$out/pruned$i.$round.json"
    done
    if [ "$native" = 1 ]; then
        echo "round $round/$rounds: oicsr, OPENBLAS_CORETYPE unset" >&2
        env -u OPENBLAS_CORETYPE OICSR_THREADS=$threads "$bin" bench --json --seconds "$seconds" --models "$oicsr_list" \
            --phases train,inference,latency,convolution "${cpu[@]}" > "$out/native.$round.json"
    fi
    if [ -n "$baseline" ]; then
        echo "round $round/$rounds: oicsr baseline $baseline" >&2
        OICSR_THREADS=$threads "$baseline" bench --json --seconds "$seconds" --models "$oicsr_list" \
            --phases train,inference,latency "${cpu[@]}" > "$out/baseline.$round.json"
    fi
    echo "round $round/$rounds: PyTorch" >&2
    "$python" scripts/pytorch_bench.py --seconds "$seconds" --threads "$threads" --models "$models" "${cpu[@]}" \
        ${pruned[@]+--pruned "${pruned[@]}"} > "$out/torch.$round.json"
done
"$python" - "$out" "$rounds" "$native" "${#cpu[@]}" "$baseline" ${pruned[@]+"${pruned[@]}"} <<'PY'
import glob, json, os, subprocess, sys, time
out, rounds, native, cpu_time = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
baseline, pruned = sys.argv[5], sys.argv[6:]
def load(prefix):
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, prefix + ".*.json")))]
def best(runs, model, key, lower=False, widths=None):
    values = [m[key] for r in runs for m in r["models"] if m["model"] == model and m.get("widths") == widths]
    return min(values) if lower else max(values)
oicsr, torch, nat = load("oicsr"), load("torch"), load("native") if native else []
base = load("baseline") if baseline else []
load_avg = open("/proc/loadavg").read().split()[:3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"{time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores, load {' '.join(load_avg)}; "
      f"{oicsr[0]['threads']} oicsr workers, PyTorch {torch[0]['torch']} with {torch[0]['threads']} threads; best of {rounds} alternated rounds"
      + ("; timed by process CPU time" if cpu_time else "; timed by elapsed time"))
print(f"cblas_sgemm 1024^2: {max(r['sgemmGFLOPs'] for r in oicsr):.0f} GFLOP/s (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')})"
      + (f", {max(r['sgemmGFLOPs'] for r in nat):.0f} unset" if native else "")
      + f"; the engine's GEMM ({oicsr[0].get('gemm', '?')}) 1024^2: {max(r.get('engineGEMMGFLOPs', 0) for r in oicsr):.0f} GFLOP/s"
      + f"; torch.mm 1024^2: {max(r['mmGFLOPs'] for r in torch):.0f} GFLOP/s")
print()
if baseline:
    print(f"baseline: {baseline}")
header = ("| model | figure | oicsr | PyTorch | ratio |" + (" oicsr, BLAS unset | ratio |" if native else "")
          + (" baseline | ratio |" if baseline else ""))
print(header)
print("|" + " --- |" * (header.count("|") - 1))
figures = [("training img/s (batch 128)", "trainImagesPerSecond", False),
           ("inference img/s (batch 256)", "inferenceImagesPerSecond", False),
           ("latency, batch 1 (ms)", "latencyMilliseconds", True)]
models = [m["model"] for m in oicsr[0]["models"]]
for model in models:
    ours, theirs = best(oicsr, model, "macs"), best(torch, model, "macs")
    if ours != theirs:
        sys.exit(f"{model}: oicsr counts {ours:,} MACs, the PyTorch module {theirs:,}: not the same network")
for model in models:
    for label, key, lower in figures:
        a, b = best(oicsr, model, key, lower), best(torch, model, key, lower)
        fmt = (lambda v: f"{v:.3f}") if lower else (lambda v: f"{v:.0f}")
        line = f"| {model} | {label} | {fmt(a)} | {fmt(b)} | {a / b:.2f}x |"
        for extra in [nat, base]:
            if extra:
                c = best(extra, model, key, lower)
                line += f" {fmt(c)} | {c / b:.2f}x |"
        print(line)
print()
print("Convolution GEMM efficiency: the training step's convolution layers (forward and both backward passes, each layer")
print("timed alone), over cblas_sgemm 1024^2 and over the engine's own GEMM at 1024^2, in the same run:")
for model in models:
    rows = [m for r in oicsr for m in r["models"] if m["model"] == model and "convolutionGFLOPs" in m]
    if rows:
        g = max(m["convolutionGFLOPs"] for m in rows)
        peak = max(r["sgemmGFLOPs"] for r in oicsr)
        own = max(r.get("engineGEMMGFLOPs", 0) for r in oicsr)
        print(f"  {model}: {g:.0f} GFLOP/s = {100 * g / peak:.0f}% of cblas_sgemm" + (f", {100 * g / own:.0f}% of the engine's GEMM" if own else ""))
if pruned:
    print()
    print("Pruned payoff: each engine's speed-up of the pruned widths over the model whole, and that speed-up")
    print("as a share of the MACs ratio (1.00: time fell as much as the MACs did):")
    print()
    print("| model | widths | MACs ratio | figure | oicsr | speed-up | of MACs ratio | PyTorch | speed-up | of MACs ratio | ratio |")
    print("|" + " --- |" * 11)
for i, spec in enumerate(pruned):
    model, widths = spec.split("=")[0], [int(w) for w in spec.split("=")[1].split(",")]
    ours = [dict(r, models=[dict(m, widths=widths) for m in r["models"]]) for r in load(f"pruned{i}")]
    whole = best(oicsr, model, "macs")
    if best(torch, model, "macs", widths=widths) != best(ours, model, "macs", widths=widths):
        sys.exit(f"{spec}: oicsr and the PyTorch module count different MACs: not the same network")
    macs_ratio = whole / best(ours, model, "macs", widths=widths)
    for label, key, lower in figures:
        line = f"| {model} | {','.join(map(str, widths))} | {macs_ratio:.2f}x | {label} |"
        values = []
        for side, dense in [(ours, oicsr), (torch, torch)]:
            p, d = best(side, model, key, lower, widths), best(dense, model, key, lower)
            speedup = d / p if lower else p / d
            values.append(p)
            line += (f" {p:.3f} |" if lower else f" {p:.0f} |") + f" {speedup:.2f}x | {speedup / macs_ratio:.2f} |"
        print(line + f" {values[0] / values[1]:.2f}x |")
PY
