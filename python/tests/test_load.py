"""Loading a pruned checkpoint back into torchvision's own classes. The pruned checkpoint is
made here by the Python surgery (slicing per the Python groups), an oracle independent of
the resizing in load.py."""
import json
import os
import random
import unittest

import torch
import torchvision

from helpers import SmallNet, TempDir, assert_close_logits, images, randomize, run_cli
from oicsr_torch import checkpoint as ckpt
from oicsr_torch import export, interpret
from oicsr_torch.groups import ChannelGroups
from oicsr_torch.load import LoadError, load
from oicsr_torch.surgery import prune, zero_pruned

SHAPE = (3, 64, 64)


def pruned_checkpoint(case, name, path, coupled=True, share=0.6):
    """Exports torchvision `name`, keeps a random `share` of every group's channels, writes
    the smaller checkpoint with the pruning part of its `oicsr.recipe`. Returns (dense model, traced, kept)."""
    model = randomize(getattr(torchvision.models, name)(num_classes=10))
    traced = export(model, SHAPE, path + ".dense")
    groups = ChannelGroups(traced.architecture, coupled=coupled)
    rng = random.Random(1)
    kept = {g.name: sorted(rng.sample(range(g.width), max(1, int(g.width * share)))) for g in groups.groups}
    architecture, tensors = prune(traced.architecture, traced.tensors, kept)
    ckpt.write(path, architecture, tensors, extra={"oicsr.recipe": json.dumps({"regularizer": {"kind": "l2"}, "pruning": {"kept": kept}})})
    return model, traced, kept


class LoadTests(TempDir):
    def check(self, name):
        path = self.path(name + ".safetensors")
        dense, traced, kept = pruned_checkpoint(self, name, path)
        model = load(getattr(torchvision.models, name)(num_classes=10), path).eval()
        reference = interpret(ckpt.read(path).architecture, ckpt.read(path).tensors).eval()
        masked = interpret(traced.architecture, zero_pruned(traced.architecture, traced.tensors, kept)).eval()
        x = images(2, SHAPE)
        with torch.no_grad():
            y = model(x)
            assert_close_logits(self, reference(x), y, what=f"{name}: loaded vs interpreter")
            assert_close_logits(self, masked(x), y, relative=1e-4, what=f"{name}: pruned vs dense with pruned channels zeroed")
        self.assertLess(sum(p.numel() for p in model.parameters()), sum(p.numel() for p in dense.parameters()))
        return model

    def test_resnet18(self):
        model = self.check("resnet18")
        self.assertLess(model.layer1[0].conv1.out_channels, 64)
        self.assertEqual(model.layer1[0].conv2.in_channels, model.layer1[0].conv1.out_channels)

    def test_mobilenet_v3_small_depthwise_follows_the_width(self):
        model = self.check("mobilenet_v3_small")
        dw = model.features[2].block[1][0]
        self.assertEqual(dw.groups, dw.in_channels)
        self.assertEqual(dw.out_channels, dw.in_channels)
        self.assertLess(dw.in_channels, 72)

    def test_efficientnet_b0(self):
        self.check("efficientnet_b0")

    def test_densenet121(self):
        self.check("densenet121")

    def test_offsets_depthwise_squeeze_excitation_and_flatten_columns(self):
        dense = randomize(SmallNet(), seed=2)
        traced = export(dense, (3, 8, 8), self.path("small.safetensors"))
        kept = {"conv1": [0, 2, 5], "conv2": [1, 3, 4], "stage of conv3": [0, 1, 4, 6, 7], "se_fc1": [0, 2], "fc1": [1, 2, 3, 6]}
        architecture, tensors = prune(traced.architecture, traced.tensors, kept)
        ckpt.write(self.path("pruned.safetensors"), architecture, tensors)
        model = load(SmallNet(), self.path("pruned.safetensors")).eval()
        self.assertEqual((model.dw.groups, model.bn3.num_features, model.conv3.in_channels), (6, 6, 6))
        self.assertEqual((model.fc1.in_features, model.se_fc2.out_channels), (5 * 4, 5))
        masked = interpret(traced.architecture, zero_pruned(traced.architecture, traced.tensors, kept)).eval()
        x = images(3, (3, 8, 8))
        with torch.no_grad():
            assert_close_logits(self, masked(x), model(x), what="SmallNet pruned vs dense with pruned channels zeroed")

    def test_a_model_of_another_class_is_refused_naming_the_layer(self):
        path = self.path("r.safetensors")
        pruned_checkpoint(self, "resnet18", path)
        with self.assertRaisesRegex(LoadError, r"layer 'conv1': the checkpoint has a conv2d here, the model has no module"):
            load(torchvision.models.mobilenet_v2(num_classes=10), path)
        with self.assertRaisesRegex(LoadError, r"layer 'layer3.0.conv1': kernel: expected \(3, 3\) \(checkpoint\), "
                                               r"found \(1, 1\) \(model\)"):
            wrong = torchvision.models.resnet18(num_classes=10)
            wrong.layer3[0].conv1 = torch.nn.Conv2d(128, 256, 1, stride=2, bias=False)
            load(wrong, path)

    def test_without_a_model_class_the_interpreter_loads_it(self):
        path = self.path("r.safetensors")
        pruned_checkpoint(self, "resnet18", path)
        model = load(None, path)
        self.assertEqual(model(images(1, SHAPE)).shape, (1, 10))

    def test_cli_load_writes_state_and_onnx(self):
        path = self.path("m.safetensors")
        pruned_checkpoint(self, "mobilenet_v3_small", path)
        status, stdout, stderr = run_cli("load", path, "--model", "torchvision:mobilenet_v3_small",
                                         "--out", self.path("state.pt"), "--onnx", self.path("m.onnx"))
        self.assertEqual(status, 0, stderr)
        self.assertGreater(os.path.getsize(self.path("m.onnx")), 10000)
        state = torch.load(self.path("state.pt"))
        model = torchvision.models.mobilenet_v3_small(num_classes=10)
        load(model, path)
        self.assertEqual(set(state), set(model.state_dict()))
        try:
            import onnx
        except ImportError:
            return
        onnx.checker.check_model(onnx.load(self.path("m.onnx")))


if __name__ == "__main__":
    unittest.main()
