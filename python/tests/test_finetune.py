"""`python3 -m oicsr_torch finetune`: one process on a small pruned checkpoint (the loss falls, the
result is an oicsr checkpoint of the source's architecture and names, with its recipe and
metrics advanced), bad arguments, and two processes (torch.multiprocessing with gloo on
localhost, and the real torchrun launcher)."""
import json
import os
import re
import socket
import subprocess
import unittest

import torch
import torch.multiprocessing as mp

from helpers import PACKAGE_DIR, PYTHON, PlainNet, TempDir, randomize, run_cli, small_net
from oicsr_torch import checkpoint as ckpt
from oicsr_torch import export, safetensors
from oicsr_torch.data import export_data
from oicsr_torch.finetune import Options, normalize, run
from oicsr_torch.interpret import interpret
from oicsr_torch.load import load
from oicsr_torch.regularizer import OICSR
from oicsr_torch.surgery import prune

SHAPE = (3, 8, 8)
HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers.py")
SMALL = HELPERS + ":small_net"
KEPT = {"conv1": [0, 2, 5], "conv2": [1, 3, 4], "stage of conv3": [0, 1, 4, 6, 7], "se_fc1": [0, 2], "fc1": [1, 2, 3, 6]}
SOURCE_RECIPE = {"regularizer": {"kind": "oicsr-gl", "lambda": 0.1, "step": "proximal", "coupled": False},
                 "pruning": {"source": "small.safetensors", "metric": "flops", "target": 0.3, "kept": KEPT},
                 "fine_tuning": {"epochs": 1, "lr": 0.02}}
BINARY = os.environ.get("OICSR_BIN")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pruned_small(path):
    """A SmallNet (10 classes) pruned by the Python surgery, with a source recipe and metrics."""
    traced = export(randomize(small_net(), seed=3), SHAPE, path + ".dense", name="small")
    architecture, tensors = prune(traced.architecture, traced.tensors, KEPT)
    ckpt.write(path, architecture, tensors, normalization={"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]},
               dataset="fake", extra={"oicsr.recipe": json.dumps(SOURCE_RECIPE),
                                      "oicsr.metrics": json.dumps({"dense_top1": 0.5, "top1": 0.1})})
    return path


def epoch_losses(stdout):
    return [float(v) for v in re.findall(r"^epoch \d+/\d+: lr [^,]+, train loss ([0-9.]+)", stdout, re.M)]


def top1_by_interpreter(path, data_path):
    """(correct, count) of the checkpoint on the data file's test split, by the interpreter."""
    checkpoint = ckpt.read(path)
    model = interpret(checkpoint.architecture, checkpoint.tensors).eval()
    tensors, _ = safetensors.read(data_path)
    with torch.no_grad():
        logits = model(normalize(tensors["test.images"], checkpoint.normalization))
    return int((logits.argmax(1) == tensors["test.labels"]).sum()), len(tensors["test.labels"])


class FinetuneTests(TempDir):
    def setUp(self):
        super().setUp()
        self.source = pruned_small(self.path("pruned.safetensors"))
        self.data = self.path("data.safetensors")
        export_data("fake", SHAPE, 64, 32, self.data)

    def finetune(self, *args, model=SMALL, out="tuned.safetensors"):
        return run_cli("finetune", self.source, "--model", model, "--data", self.data, "--out", self.path(out), *args)

    def test_one_process_lowers_the_loss_and_writes_a_checkpoint_of_the_same_architecture(self):
        status, stdout, stderr = self.finetune("--epochs", "4", "--lr", "0.05", "--batch-size", "16", "--seed", "2")
        self.assertEqual(status, 0, stderr)
        losses = epoch_losses(stdout)
        self.assertEqual(len(losses), 4, stdout)
        self.assertLess(losses[-1], losses[0], stdout)
        source, tuned = ckpt.read(self.source), ckpt.read(self.path("tuned.safetensors"))
        self.assertEqual(tuned.architecture.to_json(), source.architecture.to_json())
        self.assertEqual(list(tuned.tensors), list(source.tensors))
        for name, tensor in source.tensors.items():
            self.assertEqual(tuned.tensors[name].shape, tensor.shape, name)
        self.assertFalse(torch.equal(tuned.tensors["conv2.weight"], source.tensors["conv2.weight"]))
        self.assertEqual((tuned.normalization, tuned.dataset, tuned.class_names),
                         (source.normalization, source.dataset, source.class_names))
        recipe = tuned.recipe
        self.assertEqual(recipe["fine_tuning"], {"epochs": 5, "lr": 0.05})
        self.assertEqual(recipe["regularizer"], SOURCE_RECIPE["regularizer"], "an l2 run keeps the source's regularizer")
        self.assertEqual(recipe["pruning"], SOURCE_RECIPE["pruning"])
        metrics = json.loads(tuned.metadata["oicsr.metrics"])
        self.assertEqual(metrics["dense_top1"], 0.5)
        self.assertAlmostEqual(metrics["train_loss"], losses[-1], places=3)
        correct, count = top1_by_interpreter(self.path("tuned.safetensors"), self.data)
        self.assertAlmostEqual(metrics["top1"], correct / count)
        self.assertIn(f"({correct}/{count})", stdout.splitlines()[-2])
        model = load(small_net(), self.path("tuned.safetensors"))   # loads strictly and checks the logits
        self.assertEqual(model.conv1.out_channels, 3)

    def test_the_regularizer_zeroes_weak_groups_and_is_recorded(self):
        status, stdout, stderr = self.finetune("--epochs", "2", "--lr", "0.1", "--batch-size", "32", "--reg", "oicsr-gl",
                                               "--lambda", "20", model="none")
        self.assertEqual(status, 0, stderr)
        self.assertIn("regularizer oicsr-gl λ 20 proximal", stdout)
        tuned = ckpt.read(self.path("tuned.safetensors"))
        module = interpret(tuned.architecture, tuned.tensors)
        energies = OICSR(module, 20, architecture=tuned.architecture).energies()
        self.assertGreater(sum(e == 0 for values in energies.values() for e in values), 0, energies)
        self.assertEqual(tuned.recipe["regularizer"], {"kind": "oicsr-gl", "lambda": 20.0, "step": "proximal",
                                                       "coupled": False})

    def test_bad_arguments_exit_2_with_one_message_and_write_nothing(self):
        small_data = self.path("other.safetensors")
        export_data("fake", (3, 16, 16), 8, 4, small_data)
        with open(self.path("exists.safetensors"), "wb") as f:
            f.write(b"x")
        cases = {
            "no checkpoint": (["--epochs", "1"], {"source": self.path("missing.safetensors")}, r"no checkpoint"),
            "data of another size": (["--epochs", "1"], {"data": small_data}, r"--data: .*images of 16x16 with 3 channels, the model takes 8x8"),
            "no lambda": (["--reg", "gl"], {}, r"--reg gl needs --lambda"),
            "batch size": (["--batch-size", "0"], {}, r"--batch-size: 0"),
            "another model": ([], {"model": "torchvision:resnet18"}, r"--model torchvision:resnet18: .*layer 'conv1'"),
            "out exists": ([], {"out": "exists.safetensors"}, r"--out: .*exists; pass --force"),
            "no folder": ([], {"out": "nowhere/tuned.safetensors"}, r"--out: no folder"),
        }
        for name, (args, changes, pattern) in cases.items():
            with self.subTest(name):
                source, data = changes.get("source", self.source), changes.get("data", self.data)
                out = self.path(changes.get("out", "tuned.safetensors"))
                status, stdout, stderr = run_cli("finetune", source, "--model", changes.get("model", SMALL), "--data",
                                                 data, "--out", out, *args)
                self.assertEqual(status, 2, stderr)
                lines = [l for l in stderr.splitlines() if l.strip()]
                self.assertEqual(len(lines), 1, stderr)
                self.assertRegex(lines[0], r"^oicsr_torch: error: " + pattern)
                self.assertFalse(os.path.exists(self.path("tuned.safetensors")))
        with open(self.path("exists.safetensors"), "rb") as f:
            self.assertEqual(f.read(), b"x")

    def test_a_diverged_run_exits_1_and_writes_nothing(self):
        status, _, stderr = self.finetune("--lr", "1e6", "--batch-size", "16", model="none")
        self.assertEqual(status, 1, stderr)
        self.assertRegex(stderr.strip(), r"^oicsr_torch: error: training diverged .*nothing was written")
        self.assertFalse(os.path.exists(self.path("tuned.safetensors")))

    @unittest.skipUnless(BINARY, "set OICSR_BIN to check the fine-tuned checkpoint with `oicsr eval`")
    def test_oicsr_eval_gives_the_same_top1(self):
        status, _, stderr = self.finetune("--epochs", "1", "--lr", "0.05", "--batch-size", "16")
        self.assertEqual(status, 0, stderr)
        path = self.path("tuned.safetensors")
        done = subprocess.run([BINARY, "eval", path, "--data", self.data, "--json"], capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        evaluation = json.loads(done.stdout)["evaluation"]
        metrics = json.loads(ckpt.read(path).metadata["oicsr.metrics"])
        self.assertLessEqual(abs(evaluation["top1"] - metrics["top1"]) * evaluation["count"], 1 + 1e-9)
        self.assertAlmostEqual(evaluation["loss"], metrics["loss"], delta=1e-3 * max(1, abs(metrics["loss"])))


def spawned(rank, port, source, data, folder):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2", "RANK": str(rank),
                       "LOCAL_RANK": str(rank)})
    torch.set_num_threads(1)
    lines = []
    result = run(Options(checkpoint=source, data=data, out=os.path.join(folder, "ddp.safetensors"), model=SMALL,
                         epochs=2, lr=0.05, batch_size=16, reg="oicsr-gl", lam=0.01, log=lambda *a, **k: lines.append(a[0])))
    torch.save({"state": result.model.state_dict(), "wrote": result.wrote, "lines": lines, "epochs": result.epochs},
               os.path.join(folder, f"rank{rank}.pt"))


class DistributedFinetuneTests(TempDir):
    def test_two_ranks_end_identical_and_rank_0_alone_writes(self):
        source = pruned_small(self.path("pruned.safetensors"))
        data = self.path("data.safetensors")
        export_data("fake", SHAPE, 64, 32, data)
        mp.spawn(spawned, args=(free_port(), source, data, self.dir), nprocs=2, join=True)
        ranks = [torch.load(self.path(f"rank{r}.pt")) for r in range(2)]
        self.assertEqual([r["wrote"] for r in ranks], [True, False])
        self.assertEqual(ranks[1]["lines"], [], "only rank 0 prints")
        self.assertTrue(any(line.startswith("epoch 2/2") for line in ranks[0]["lines"]), ranks[0]["lines"])
        self.assertEqual(ranks[0]["epochs"], ranks[1]["epochs"], "the ranks see the same all-reduced figures")
        for name, tensor in ranks[0]["state"].items():
            self.assertTrue(torch.equal(tensor, ranks[1]["state"][name]), f"{name} differs between the ranks")
        written = ckpt.read(self.path("ddp.safetensors"))
        for name, tensor in written.tensors.items():
            self.assertTrue(torch.equal(tensor, ranks[0]["state"][name]), f"{name}: the file is not rank 0's weights")
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(["data.safetensors", "ddp.safetensors", "pruned.safetensors",
                                                               "pruned.safetensors.dense", "rank0.pt", "rank1.pt"]))

    def test_torchrun_with_two_processes_writes_what_one_process_writes(self):
        source = self.path("plain.safetensors")
        export(randomize(PlainNet(), seed=4), SHAPE, source, name="plain")
        data = self.path("data.safetensors")
        export_data("fake", SHAPE, 64, 16, data)
        common = ["finetune", source, "--model", "none", "--data", data, "--epochs", "2", "--lr", "0.05",
                  "--batch-size", "16", "--reg", "oicsr-gl", "--lambda", "0.05"]
        status, _, stderr = run_cli(*common, "--out", self.path("one.safetensors"))
        self.assertEqual(status, 0, stderr)
        env = dict(os.environ, PYTHONPATH=PACKAGE_DIR)
        # Debian's torch 1.13 under Python 3.11 cannot parse torchrun's default "--redirects 0".
        launcher = [PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--redirects", "1", "--tee", "1",
                    "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "--log_dir", self.path("logs"),
                    "-m", "oicsr_torch"]
        done = subprocess.run(launcher + common + ["--out", self.path("two.safetensors")], capture_output=True,
                              text=True, env=env, timeout=600)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("(2 processes of 8)", done.stdout)
        self.assertEqual(done.stdout.count("wrote "), 1, done.stdout)
        one, two = ckpt.read(self.path("one.safetensors")), ckpt.read(self.path("two.safetensors"))
        self.assertEqual(one.metadata["oicsr.recipe"], two.metadata["oicsr.recipe"])
        for name, tensor in one.tensors.items():
            torch.testing.assert_close(two.tensors[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


if __name__ == "__main__":
    unittest.main()
