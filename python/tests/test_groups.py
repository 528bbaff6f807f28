import json
import unittest

import torchvision

from helpers import SmallNet, run_cli, TempDir
from oicsr_torch import trace
from oicsr_torch.architecture import Architecture
from oicsr_torch.groups import ChannelGroups, Slice


def small_architecture():
    return trace(SmallNet(), (3, 8, 8), name="small").architecture


class SmallNetGroupTests(unittest.TestCase):
    def test_block_internal_groups_by_default(self):
        groups = ChannelGroups(small_architecture())
        self.assertEqual([g.name for g in groups.groups], ["conv1", "conv2", "se_fc1", "fc1"])
        conv1, conv2 = groups.groups[0], groups.groups[1]
        self.assertEqual(conv1.batchnorms, [Slice("bn1"), Slice("bn3")])
        self.assertEqual(conv1.depthwise, [Slice("dw")])
        self.assertEqual(conv1.consumers, [Slice("conv2"), Slice("conv3")])
        self.assertEqual(conv2.producers, ["conv2"])
        self.assertEqual(conv2.batchnorms, [Slice("bn2"), Slice("bn3", 6)])
        self.assertEqual(conv2.depthwise, [Slice("dw", 6)])
        self.assertEqual(conv2.consumers, [Slice("conv3", 6)])
        self.assertEqual(dict(groups.fixed), {
            "stage of conv3": "joined by residual sums across 3 layers; prune with coupled channels on",
            "fc2": "the class scores"})

    def test_coupled_stage_joins_the_squeeze_excitation_and_the_residual(self):
        groups = ChannelGroups(small_architecture(), coupled=True)
        self.assertEqual([g.name for g in groups.groups], ["conv1", "conv2", "stage of conv3", "se_fc1", "fc1"])
        stage = groups.groups[2]
        self.assertTrue(stage.coupled)
        self.assertEqual(stage.producers, ["conv3", "se_fc2", "conv4"])
        self.assertEqual(stage.batchnorms, [Slice("bn4"), Slice("bn5")])
        self.assertEqual(stage.consumers, [Slice("se_fc1"), Slice("conv4"), Slice("fc1", 0, 4)])

    def test_differently_split_joins_and_grouped_convolutions_are_fixed(self):
        layers = [
            {"name": "a", "kind": "conv2d", "out": 4, "kernel": 1},
            {"name": "b", "kind": "conv2d", "out": 4, "kernel": 1, "inputs": ["input"]},
            {"name": "cat", "kind": "concat", "inputs": ["a", "b"]},
            {"name": "c", "kind": "conv2d", "out": 8, "kernel": 1, "inputs": ["input"]},
            {"name": "sum", "kind": "add", "inputs": ["cat", "c"]},
            {"name": "g", "kind": "conv2d", "out": 6, "kernel": 1, "groups": 2},
            {"name": "d", "kind": "conv2d", "out": 5, "kernel": 1},
            {"name": "gap", "kind": "globalavgpool"},
            {"name": "fc", "kind": "linear", "out": 3}]
        groups = ChannelGroups(Architecture.parse({"name": "t", "input": [3, 4, 4], "classes": 3, "layers": layers}))
        self.assertEqual([g.name for g in groups.groups], ["d"])
        fixed = dict(groups.fixed)
        self.assertIn("split differently", fixed["a"])
        self.assertIn("split differently", fixed["c"])
        self.assertEqual(fixed["g"], "written by a grouped convolution")

    def test_the_image_is_never_a_group(self):
        groups = ChannelGroups(small_architecture(), coupled=True)
        self.assertNotIn("input", [g.name for g in groups.groups] + [n for n, _ in groups.fixed])


class TorchvisionGroupTests(unittest.TestCase):
    def test_resnet18_prunes_only_block_internal_channels(self):
        architecture = trace(torchvision.models.resnet18(num_classes=10), (3, 32, 32)).architecture
        groups = ChannelGroups(architecture)
        self.assertEqual([g.name for g in groups.groups], [f"layer{s}.{b}.conv1" for s in range(1, 5) for b in range(2)])
        coupled = ChannelGroups(architecture, coupled=True)
        stages = [g for g in coupled.groups if g.coupled]
        self.assertEqual([g.name for g in stages], ["stage of conv1", "stage of layer2.0.conv2", "stage of layer3.0.conv2",
                                                    "stage of layer4.0.conv2"])
        self.assertEqual(stages[1].producers, ["layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2"])

    def test_densenet_concat_offsets(self):
        architecture = trace(torchvision.models.densenet121(num_classes=10), (3, 32, 32)).architecture
        groups = ChannelGroups(architecture).by_name()
        # The second dense layer's new channels sit after 64 + 32 in every later concat of block 1.
        g = groups["features.denseblock1.denselayer2.conv2"]
        self.assertEqual(g.width, 32)
        self.assertEqual(g.batchnorms[0], Slice("features.denseblock1.denselayer3.norm1", 96))
        self.assertEqual(g.consumers[0], Slice("features.denseblock1.denselayer3.conv1", 96))
        self.assertEqual(g.consumers[-1], Slice("features.transition1.conv", 96))


class GroupsCliTests(TempDir):
    def test_json_form(self):
        with open(self.path("a.json"), "w") as f:
            f.write(small_architecture().to_json())
        status, stdout, stderr = run_cli("groups", self.path("a.json"), "--json", "--coupled")
        self.assertEqual(status, 0, stderr)
        data = json.loads(stdout)
        self.assertEqual(data["model"], "small")
        stage = data["groups"][2]
        self.assertEqual(stage["name"], "stage of conv3")
        self.assertEqual(stage["consumers"], [{"layer": "se_fc1", "offset": 0, "featuresPerChannel": 1},
                                              {"layer": "conv4", "offset": 0, "featuresPerChannel": 1},
                                              {"layer": "fc1", "offset": 0, "featuresPerChannel": 4}])
        self.assertEqual(data["groups"][1]["batchNorms"], [{"layer": "bn2", "offset": 0, "featuresPerChannel": 1},
                                                           {"layer": "bn3", "offset": 6, "featuresPerChannel": 1}])
        status, stdout, stderr = run_cli("groups", self.path("a.json"), "--coupled")
        self.assertEqual(status, 0, stderr)
        self.assertIn("in:  se_fc1, conv4, fc1 (4 columns each)", stdout)
        self.assertIn("out: conv2, dw (from channel 6), bn2, bn3 (from channel 6)", stdout)
        self.assertEqual(data["fixed"], [{"name": "fc2", "reason": "the class scores"}])


if __name__ == "__main__":
    unittest.main()
