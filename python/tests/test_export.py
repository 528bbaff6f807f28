"""Export + interpret parity: the exported JSON and tensors, run by the interpreter (an
independent reading of the contract), give the original model's logits."""
import os
import unittest
import warnings

import torch
import torchvision

from helpers import FunctionalNet, SmallNet, TempDir, assert_close_logits, images, randomize, run_cli
from oicsr_torch import checkpoint as ckpt
from oicsr_torch import export, trace
from oicsr_torch.interpret import from_checkpoint

SHAPE = (3, 64, 64)
MODELS = ["resnet18", "resnet50", "vgg11_bn", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "densenet121"]


class ExportParityTests(TempDir):
    def check(self, name):
        model = randomize(getattr(torchvision.models, name)(num_classes=10))
        path = self.path(name + ".safetensors")
        traced = export(model, SHAPE, path, name=name)
        self.assertEqual(traced.method, "fx")
        interpreted, checkpoint = from_checkpoint(path)
        x = images(2, SHAPE)
        with torch.no_grad():
            assert_close_logits(self, model(x), interpreted(x), what=name)
        self.assertEqual(checkpoint.metadata["format"], "pt")
        self.assertEqual(checkpoint.class_names, [str(i) for i in range(10)])
        self.assertEqual(checkpoint.metadata["oicsr.regularizer"], "l2")
        self.assertEqual(float(checkpoint.metadata["oicsr.lambda"]), 0.0)
        names = set(model.state_dict())
        self.assertTrue(set(checkpoint.tensors) <= names, "tensors carry the state_dict names")
        self.assertEqual({n for n in names if not n.endswith("num_batches_tracked")}, set(checkpoint.tensors))
        self.assertTrue(all(t.dtype == torch.float32 for t in checkpoint.tensors.values()))

    def test_resnet18(self):
        self.check("resnet18")

    def test_resnet50(self):
        self.check("resnet50")

    def test_vgg11_bn(self):
        self.check("vgg11_bn")

    def test_mobilenet_v2(self):
        self.check("mobilenet_v2")

    def test_mobilenet_v3_small(self):
        self.check("mobilenet_v3_small")

    def test_efficientnet_b0(self):
        self.check("efficientnet_b0")

    def test_densenet121(self):
        self.check("densenet121")

    def test_eager_recording_gives_the_same_architecture_as_fx(self):
        for name in ("resnet18", "mobilenet_v3_small", "densenet121"):
            model = getattr(torchvision.models, name)(num_classes=10)
            fx_json = trace(model, SHAPE, name=name, method="fx").architecture.to_json()
            eager_json = trace(model, SHAPE, name=name, method="eager").architecture.to_json()
            self.assertEqual(fx_json, eager_json, name)

    def test_inplace_calls_and_function_forms_map_to_kinds(self):
        model = randomize(SmallNet())
        path = self.path("small.safetensors")
        traced = export(model, (3, 8, 8), path)
        kinds = [l.kind for l in traced.architecture.layers]
        for kind in ("concat", "mul", "add", "hardswish", "sigmoid", "adaptiveavgpool", "flatten"):
            self.assertIn(kind, kinds)
        interpreted, _ = from_checkpoint(path)
        x = images(3, (3, 8, 8))
        with torch.no_grad():
            assert_close_logits(self, model(x), interpreted(x), what="SmallNet")

    def test_function_method_and_inplace_forms_by_fx_and_eager(self):
        model = randomize(FunctionalNet())
        x = images(3, (3, 20, 20))
        for method in ("fx", "eager"):
            traced = trace(model, (3, 20, 20), method=method)
            kinds = [l.kind for l in traced.architecture.layers]
            for kind in ("relu", "relu6", "silu", "hardsigmoid", "sigmoid", "hardswish", "add", "concat", "mul",
                         "maxpool", "avgpool", "adaptiveavgpool", "globalavgpool", "dropout", "linear"):
                self.assertIn(kind, kinds, method)
            interpreted = interpret_traced(traced)
            with torch.no_grad():
                assert_close_logits(self, model(x), interpreted(x), what=method)
        layers = trace(model, (3, 20, 20)).architecture.by_name()
        self.assertEqual((layers["c1"]["padding"], layers["c2"]["dilation"], layers["c3"]["groups"]), (1, 2, 4))
        self.assertEqual((layers["b1"]["eps"], layers["b1"]["momentum"]), (1e-3, 0.01))
        self.assertEqual((layers["avg"]["ceil"], layers["avg"]["count_pad"]), (True, False))

    def test_function_layers_never_take_a_module_name(self):
        traced = trace(torchvision.models.resnet18(num_classes=10), SHAPE)
        modules = {n for n, _ in torchvision.models.resnet18().named_modules()}
        for layer in traced.architecture.layers:
            if layer.kind in ("conv2d", "batchnorm", "linear"):
                self.assertIn(layer.name, modules)
            elif ":" in layer.name:
                self.assertNotIn(layer.name, modules)
        self.assertIn("layer1.0:add", [l.name for l in traced.architecture.layers])
        self.assertIn("layer1.0.relu:1", [l.name for l in traced.architecture.layers])


def interpret_traced(traced):
    from oicsr_torch import interpret
    return interpret(traced.architecture, traced.tensors).eval()


class FftModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        x = torch.fft.fft2(self.conv(x)).real
        return self.fc(x.mean((2, 3)))


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class CustomFunctionModel(FftModel):
    def forward(self, x):
        return self.fc(Square.apply(self.conv(x)).mean((2, 3)))


class ControlFlowModel(FftModel):
    """fx cannot trace a branch on a tensor's value: the eager recording takes over."""

    def forward(self, x):
        x = self.conv(x)
        if x.mean() > -1e9:
            x = torch.relu(x)
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


class ChunkModel(FftModel):
    def forward(self, x):
        a, b = torch.chunk(self.conv(x), 2, 1)
        return self.fc(torch.cat([a, b], 1).mean((2, 3)))


MODELS_FILE = """
import torch
from test_export import FftModel, CustomFunctionModel, ControlFlowModel
import torchvision

def parallel_resnet():
    return torchvision.models.resnet18(num_classes=4)
"""


class RefusalTests(TempDir):
    def test_an_fft_is_refused_naming_node_op_and_source_line(self):
        with self.assertRaises(Exception) as caught:
            export(FftModel(), (3, 16, 16), self.path("fft.safetensors"))
        message = str(caught.exception)
        self.assertIn("'fft_fft2'", message)
        self.assertIn("call_function torch.fft.fft2", message)
        self.assertIn("test_export.py:", message)
        self.assertIn("torch.fft.fft2(self.conv(x))", message)
        self.assertFalse(os.path.exists(self.path("fft.safetensors")))

    def test_a_custom_autograd_function_is_refused_at_its_apply(self):
        with self.assertRaisesRegex(Exception, r"custom autograd Function 'Square' applied at .*test_export.py:\d+ "
                                               r"`return self.fc\(Square.apply"):
            trace(CustomFunctionModel(), (3, 16, 16))

    def test_a_call_returning_several_tensors_is_refused_there(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with self.assertRaisesRegex(Exception, r"node 'chunk' \(call_function torch.chunk\) at .*test_export.py:\d+ "
                                                   r"`a, b = torch.chunk.*`: returns several tensors"):
                trace(ChunkModel(), (3, 16, 16))

    def test_cli_refusal_exits_2_with_one_message_and_writes_nothing(self):
        with open(self.path("models.py"), "w") as f:
            f.write(MODELS_FILE)
        out = self.path("fft.safetensors")
        env_dir = os.path.dirname(os.path.abspath(__file__))
        status, stdout, stderr = run_cli("export", f"{self.path('models.py')}:FftModel", "--input", "3x16x16",
                                         "--out", out, cwd=env_dir)
        self.assertEqual(status, 2, stderr)
        lines = [l for l in stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, stderr)
        self.assertRegex(lines[0], r"node 'fft_fft2' \(call_function torch.fft.fft2\) at .*test_export.py:\d+")
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith(".tmp")], [])

    def test_a_model_fx_cannot_trace_goes_through_the_eager_recording(self):
        model = randomize(ControlFlowModel())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            traced = export(model, (3, 16, 16), self.path("branchy.safetensors"))
        self.assertEqual(traced.method, "eager")
        self.assertTrue(any("torch.fx cannot trace" in str(w.message) for w in caught))
        self.assertEqual([l.kind for l in traced.architecture.layers], ["conv2d", "relu", "adaptiveavgpool", "flatten", "linear"])
        interpreted, _ = from_checkpoint(self.path("branchy.safetensors"))
        x = images(2, (3, 16, 16))
        with torch.no_grad():
            assert_close_logits(self, model(x), interpreted(x))


class CliExportTests(TempDir):
    def test_export_with_dataparallel_weights_and_metadata_options(self):
        source = randomize(torchvision.models.resnet18(num_classes=4), seed=3)
        torch.save({"state_dict": torch.nn.DataParallel(source).state_dict()}, self.path("w.pth"))
        with open(self.path("names.txt"), "w") as f:
            f.write("cat\ndog\nfox\nowl\n")
        out = self.path("r.safetensors")
        status, stdout, stderr = run_cli("export", "torchvision:resnet18", "--classes", "4", "--input", "3x32x32",
                                         "--weights", self.path("w.pth"), "--dataset", "animals",
                                         "--class-names", self.path("names.txt"), "--mean", "0.5,0.5,0.5",
                                         "--std", "0.25,0.25,0.25", "--out", out)
        self.assertEqual(status, 0, stderr)
        checkpoint = ckpt.read(out)
        self.assertEqual(checkpoint.dataset, "animals")
        self.assertEqual(checkpoint.class_names, ["cat", "dog", "fox", "owl"])
        self.assertEqual(checkpoint.normalization, {"mean": [0.5] * 3, "std": [0.25] * 3})
        self.assertTrue(torch.equal(checkpoint.tensors["conv1.weight"], source.conv1.weight))

    def test_torchvision_models_default_to_imagenet_normalization(self):
        out = self.path("m.safetensors")
        status, _, stderr = run_cli("export", "torchvision:mobilenet_v3_small", "--input", "3x32x32", "--out", out)
        self.assertEqual(status, 0, stderr)
        checkpoint = ckpt.read(out)
        self.assertEqual(checkpoint.normalization, ckpt.IMAGENET)
        self.assertEqual(len(checkpoint.class_names), 1000)
        status, _, stderr = run_cli("export", "torchvision:mobilenet_v3_small", "--input", "3x32x32", "--out", out)
        self.assertEqual(status, 2, "an existing --out needs --force")


if __name__ == "__main__":
    unittest.main()
