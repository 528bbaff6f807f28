import unittest

import torch
import torch.nn.functional as F

from oicsr_torch.architecture import Architecture, ArchitectureError

DOC_EXAMPLE = {"name": "tiny", "input": [3, 32, 32], "classes": 10, "layers": [
    {"name": "conv1", "kind": "conv2d", "out": 16, "kernel": 3, "padding": 1},
    {"name": "bn1", "kind": "batchnorm"},
    {"name": "relu1", "kind": "relu"},
    {"name": "dw", "kind": "conv2d", "out": 16, "kernel": 3, "padding": 1, "groups": 16},
    {"name": "bn2", "kind": "batchnorm"},
    {"name": "act2", "kind": "hardswish"},
    {"name": "cat", "kind": "concat", "inputs": ["relu1", "act2"]},
    {"name": "gap", "kind": "adaptiveavgpool", "size": [1, 1]},
    {"name": "flat", "kind": "flatten"},
    {"name": "drop", "kind": "dropout", "p": 0.2},
    {"name": "fc", "kind": "linear", "out": 10}]}


def arch(layers, input=(3, 9, 9), classes=None):
    return {"name": "t", "input": list(input), "classes": classes or 4, "layers": layers}


class ArchitectureTests(unittest.TestCase):
    def test_the_documented_example_parses_with_its_shapes(self):
        a = Architecture.parse(DOC_EXAMPLE)
        self.assertEqual(a.shapes(), [(16, 32, 32)] * 6 + [(32, 32, 32), (32, 1, 1), (32,), (32,), (10,)])
        self.assertEqual(Architecture.parse(a.to_json()).to_dict(), a.to_dict())

    def test_pooling_sizes_are_pytorchs_including_ceil(self):
        for size in range(3, 12):
            for kernel, stride, padding, ceil in [(3, 2, 1, True), (3, 2, 0, True), (2, 2, 0, True), (3, 3, 1, True),
                                                 (3, 2, 1, False), (5, 3, 2, True)]:
                if size + 2 * padding < kernel:
                    continue
                a = Architecture.parse(arch([
                    {"name": "p", "kind": "maxpool", "kernel": kernel, "stride": stride, "padding": padding, "ceil": ceil},
                    {"name": "g", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 4}], (3, size, size)))
                expected = F.max_pool2d(torch.zeros(1, 3, size, size), kernel, stride, padding, ceil_mode=ceil).shape[1:]
                self.assertEqual(a.shapes()[0], tuple(expected), (size, kernel, stride, padding, ceil))

    def test_conv_size_with_dilation(self):
        a = Architecture.parse(arch([
            {"name": "c", "kind": "conv2d", "out": 5, "kernel": 3, "dilation": 2, "stride": 2, "padding": 1},
            {"name": "g", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 4}], (3, 10, 10)))
        self.assertEqual(a.shapes()[0], tuple(F.conv2d(torch.zeros(1, 3, 10, 10), torch.zeros(5, 3, 3, 3), None, 2, 1, 2).shape[1:]))

    def test_unknown_fields_and_kinds_name_the_layer_and_field(self):
        with self.assertRaises(ArchitectureError) as caught:
            Architecture.parse(arch([{"name": "c", "kind": "conv2d", "out": 4, "kernel": 3, "colour": 1}]))
        self.assertEqual((caught.exception.layer, caught.exception.field), ("c", "colour"))
        with self.assertRaises(ArchitectureError) as caught:
            Architecture.parse(arch([{"name": "c", "kind": "softmax"}]))
        self.assertEqual((caught.exception.layer, caught.exception.field), ("c", "kind"))

    def test_mul_needs_a_gate_of_the_maps_channels(self):
        with self.assertRaisesRegex(ArchitectureError, "gate"):
            Architecture.parse(arch([
                {"name": "c", "kind": "conv2d", "out": 4, "kernel": 1},
                {"name": "g", "kind": "adaptiveavgpool", "size": [1, 1], "inputs": ["input"]},
                {"name": "m", "kind": "mul", "inputs": ["c", "g"]},
                {"name": "v", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 4}]))

    def test_the_last_layer_gives_the_classes(self):
        with self.assertRaisesRegex(ArchitectureError, "class scores"):
            Architecture.parse(arch([{"name": "g", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 3}]))


if __name__ == "__main__":
    unittest.main()
