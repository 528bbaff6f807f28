"""Shared by the bridge's tests: seeded random weights, small models, temporary folders."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch
import torch.nn.functional as F
from torch import nn

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def randomize(model, seed=0):
    """Random weights, and BatchNorm statistics and affine parameters away from their
    initial values, so a wrong mapping of any of them shows in the logits. Eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=generator) * 0.4 - 0.2)
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.1)
    return model.eval()


def images(n, shape, seed=1):
    return torch.randn((n,) + tuple(shape), generator=torch.Generator().manual_seed(seed))


def assert_close_logits(case, expected, found, relative=1e-4, what=""):
    scale = max(expected.abs().max().item(), 1e-12)
    gap = (expected - found).abs().max().item()
    case.assertLessEqual(gap, relative * scale, f"{what}: max |Δlogit| {gap:.3g} against logits up to {scale:.3g}")


class TempDir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="oicsr-bridge-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)


def run_cli(*args, cwd=None):
    """Runs `python3 -m oicsr_torch ARGS`: (exit status, stdout, stderr)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run([PYTHON, "-m", "oicsr_torch", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=600)
    return done.returncode, done.stdout, done.stderr


class SmallNet(nn.Module):
    """Every group shape in one small model: a plain conv chain, a depthwise conv after a
    concat (offsets), squeeze-excitation (mul joins), a residual add, flatten into a linear
    (h·w columns per channel) and a hidden linear."""

    def __init__(self, classes=5, width=6):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(width)
        self.dw = nn.Conv2d(2 * width, 2 * width, 3, padding=1, groups=2 * width, bias=True)
        self.bn3 = nn.BatchNorm2d(2 * width)
        self.se_fc1 = nn.Conv2d(2 * width, 3, 1)
        self.se_fc2 = nn.Conv2d(3, 2 * width, 1)
        self.conv3 = nn.Conv2d(2 * width, 8, 1, bias=False)
        self.bn4 = nn.BatchNorm2d(8)
        self.conv4 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn5 = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.fc1 = nn.Linear(8 * 4, 7)
        self.fc2 = nn.Linear(7, classes)

    def forward(self, x):
        a = F.relu(self.bn1(self.conv1(x)))
        b = F.relu(self.bn2(self.conv2(a)))
        x = torch.cat([a, b], 1)
        x = F.hardswish(self.bn3(self.dw(x)))
        gate = torch.sigmoid(self.se_fc2(F.relu(self.se_fc1(F.adaptive_avg_pool2d(x, 1)))))
        x = x * gate
        y = F.relu(self.bn4(self.conv3(x)))
        x = F.relu(self.bn5(self.conv4(y)) + y)
        x = torch.flatten(self.pool(x), 1)
        return self.fc2(F.relu(self.fc1(x)))
