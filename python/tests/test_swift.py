"""The bridge against the oicsr binary. Needs $OICSR_BIN (the path of a built `oicsr`);
skipped without it."""
import os
import unittest

import torchvision

import torch

from helpers import BasicNet, SmallNet, TempDir, randomize
from oicsr_torch import export, parity

BINARY = os.environ.get("OICSR_BIN")
REASON = "set OICSR_BIN to the oicsr binary (e.g. .build/release/oicsr) to check the bridge against it"


def torchvision_factory(name):
    return lambda: randomize(getattr(torchvision.models, name)(num_classes=10))


@unittest.skipUnless(BINARY, REASON)
class SwiftBasicKindsTests(TempDir):
    """A model of the kinds every oicsr binary reads: the same groups, the same logits."""

    def test_groups_and_logits(self):
        model = randomize(BasicNet())
        path = self.path("basic.safetensors")
        export(model, (3, 16, 16), path, name="basic")
        for coupled in (False, True):
            theirs, ours = parity.groups_agree(path, coupled)
            self.assertEqual(theirs, ours, f"coupled={coupled}")
        x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            reference = model(x)
        self.assertLessEqual(parity.relative_gap(reference, parity.predict(path, x, self.dir)), 1e-4)


@unittest.skipUnless(BINARY, REASON)
class SwiftGroupTests(TempDir):
    def test_python_groups_equal_the_binarys(self):
        models = {"small": (lambda: SmallNet(), (3, 8, 8))}
        for name in ("resnet18", "mobilenet_v3_small", "efficientnet_b0", "densenet121"):
            models[name] = (torchvision_factory(name), (3, 32, 32))
        for name, (factory, shape) in models.items():
            path = self.path(name + ".safetensors")
            export(factory(), shape, path, name=name)
            for coupled in (False, True):
                with self.subTest(model=name, coupled=coupled):
                    theirs, ours = parity.groups_agree(path, coupled)
                    self.assertEqual(theirs, ours)


@unittest.skipUnless(BINARY, REASON)
class SwiftLogitTests(TempDir):
    def check(self, name):
        result = parity.compare(name, torchvision_factory(name), (3, 64, 64), self.dir)
        self.assertLessEqual(result["dense"], 1e-4, f"{name}: the binary's dense logits against PyTorch")
        self.assertLessEqual(result["pruned"], 1e-4, f"{name}: pruned by the binary, loaded in PyTorch, against the binary")
        self.assertLessEqual(result["masked"], 1e-4, f"{name}: pruned against dense with the pruned channels zeroed")
        self.assertLessEqual(result["compensated"], 1e-4, f"{name}: pruned with compensation against the same computed here")
        self.assertGreater(result["compensation"], 1e-3, f"{name}: compensation changed the pruned model's logits")

    def test_resnet18(self):
        self.check("resnet18")

    def test_mobilenet_v3_small(self):
        self.check("mobilenet_v3_small")


if __name__ == "__main__":
    unittest.main()
