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
    """Every group shape in one small model: a concat read by a depthwise conv, a BatchNorm and
    a consumer at offsets; squeeze-excitation (a mul join); a residual add (a coupled stage);
    flatten of a 2x2 map into a linear (4 columns per channel); a hidden linear."""

    def __init__(self, classes=5, width=6):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(width)
        self.dw = nn.Conv2d(2 * width, 2 * width, 3, padding=1, groups=2 * width, bias=True)
        self.bn3 = nn.BatchNorm2d(2 * width)
        self.conv3 = nn.Conv2d(2 * width, 8, 1, bias=False)
        self.bn4 = nn.BatchNorm2d(8)
        self.se_fc1 = nn.Conv2d(8, 3, 1)
        self.se_fc2 = nn.Conv2d(3, 8, 1)
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
        y = F.relu(self.bn4(self.conv3(x)))
        gate = torch.sigmoid(self.se_fc2(F.relu(self.se_fc1(F.adaptive_avg_pool2d(y, 1)))))
        y = y * gate
        x = F.relu(self.bn5(self.conv4(y)) + y)
        x = torch.flatten(self.pool(x), 1)
        return self.fc2(F.relu(self.fc1(x)))


# Channel i of each group of SmallNet, written out by hand from docs/architecture-json.md §2:
# (parameter, index of channel i's entries). An oracle independent of groups.py.
def _rows(name, offset=0):
    return [(name, lambda i, o=offset: (o + i,))]


def _cols(name, offset=0, features=1):
    return [(name, lambda i, o=offset, f=features: (slice(None), slice((o + i) * f, (o + i + 1) * f)))]


SMALLNET_GROUPS = {
    "conv1": {"producers": _rows("conv1.weight"),
              "batchnorm": _rows("bn1.weight") + _rows("bn1.bias") + _rows("bn3.weight") + _rows("bn3.bias"),
              "depthwise": _rows("dw.weight") + _rows("dw.bias"),
              "consumers": _cols("conv2.weight") + _cols("conv3.weight"), "width": 6},
    "conv2": {"producers": _rows("conv2.weight") + _rows("conv2.bias"),
              "batchnorm": _rows("bn2.weight") + _rows("bn2.bias") + _rows("bn3.weight", 6) + _rows("bn3.bias", 6),
              "depthwise": _rows("dw.weight", 6) + _rows("dw.bias", 6),
              "consumers": _cols("conv3.weight", 6), "width": 6},
    "stage of conv3": {"producers": _rows("conv3.weight") + _rows("se_fc2.weight") + _rows("se_fc2.bias") + _rows("conv4.weight"),
                       "batchnorm": _rows("bn4.weight") + _rows("bn4.bias") + _rows("bn5.weight") + _rows("bn5.bias"),
                       "depthwise": [],
                       "consumers": _cols("se_fc1.weight") + _cols("conv4.weight") + _cols("fc1.weight", 0, 4),
                       "width": 8, "coupled": True},
    "se_fc1": {"producers": _rows("se_fc1.weight") + _rows("se_fc1.bias"), "batchnorm": [], "depthwise": [],
               "consumers": _cols("se_fc2.weight"), "width": 3},
    "fc1": {"producers": _rows("fc1.weight") + _rows("fc1.bias"), "batchnorm": [], "depthwise": [],
            "consumers": _cols("fc2.weight"), "width": 7},
}


class FunctionalNet(nn.Module):
    """The function, method, operator and in-place forms of every mappable op."""

    def __init__(self, classes=4):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding="same", bias=True)
        self.b1 = nn.BatchNorm2d(8, eps=1e-3, momentum=0.01)
        self.c2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, bias=False)
        self.c3 = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=4)
        self.c4 = nn.Conv2d(16, 16, 1)
        self.pool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.flat = nn.Flatten()
        self.identity = nn.Identity()
        self.drop = nn.Dropout(0.3)
        self.fc1 = nn.Linear(16, 12)
        self.fc2 = nn.Linear(12, classes)

    def forward(self, x):
        x = self.b1(self.c1(x)).relu_()
        y = F.relu6(self.c2(x))
        y = torch.add(y, F.silu(x))
        y = F.hardsigmoid(y)
        y += torch.sigmoid(x)
        z = torch.cat((x, self.identity(y)), dim=1)
        z = F.hardswish(self.c3(z), inplace=True)
        z = F.max_pool2d(z, 2, ceil_mode=True)
        z = F.avg_pool2d(z, 3, 1, 1, count_include_pad=False)
        gate = torch.mean(z, (2, 3), keepdim=True)
        z = torch.mul(z, torch.sigmoid(self.c4(gate)))
        z = self.avg(self.pool(z)).contiguous()
        v = z.mean((-2, -1))
        v = self.drop(F.dropout(v, 0.1, self.training))
        v = F.relu(self.fc1(v), inplace=True)
        return self.fc2(v.view(v.size(0), -1))


class BasicNet(nn.Module):
    """Only the first kinds oicsr had (conv2d, batchnorm, relu, max and average pooling,
    globalavgpool, flatten, linear, add): residual blocks, one with a projection shortcut, and
    a flatten of a 2x2 map into a hidden linear layer."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.a1 = nn.Conv2d(8, 6, 3, padding=1, bias=False)
        self.abn1 = nn.BatchNorm2d(6)
        self.a2 = nn.Conv2d(6, 8, 3, padding=1, bias=False)
        self.abn2 = nn.BatchNorm2d(8)
        self.b1 = nn.Conv2d(8, 12, 3, stride=2, padding=1, bias=False)
        self.bbn1 = nn.BatchNorm2d(12)
        self.b2 = nn.Conv2d(12, 16, 3, padding=1, bias=False)
        self.bbn2 = nn.BatchNorm2d(16)
        self.down = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.downbn = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 4, 12)
        self.fc2 = nn.Linear(12, classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.abn2(self.a2(torch.relu(self.abn1(self.a1(x))))) + x)
        x = torch.relu(self.bbn2(self.b2(torch.relu(self.bbn1(self.b1(x))))) + self.downbn(self.down(x)))
        x = torch.flatten(F.avg_pool2d(x, 2), 1)
        return self.fc2(torch.relu(self.fc1(x)))


def small_net(num_classes=10):
    """SmallNet as a factory that takes `num_classes`, as `--model helpers.py:small_net` calls it."""
    return SmallNet(classes=num_classes)


class PlainNet(nn.Module):
    """No BatchNorm, no dropout: its training does not depend on how a batch is split over
    processes, so one process and DistributedDataParallel on the same global batch agree."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(12 * 4, 10)
        self.fc2 = nn.Linear(10, num_classes)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, (2, 2)), 1)
        return self.fc2(F.relu(self.fc1(x)))
