"""The regularizer against a naive oracle: every group of SmallNet written out by hand
(helpers.SMALLNET_GROUPS), channel by channel, with the formulas of design §5."""
import copy
import math
import unittest

import torch

from helpers import SMALLNET_GROUPS, SmallNet, TempDir, randomize
from oicsr_torch import checkpoint as ckpt
from oicsr_torch.regularizer import OICSR


def oracle_sets(kind, coupled, batchnorm_in_group=True):
    """[(width, [(parameter name, index function)])] per regularized group."""
    sets = []
    for name, g in SMALLNET_GROUPS.items():
        if g.get("coupled") and not coupled:
            continue
        if kind == "gl":
            for parameter, index in g["producers"]:
                if parameter.endswith(".weight"):
                    sets.append((g["width"], [(parameter, index)]))
        else:
            members = g["producers"] + (g["batchnorm"] if batchnorm_in_group else []) + g["depthwise"] + g["consumers"]
            sets.append((g["width"], members))
    return sets


def clone(model):
    """A deep copy, gradients included (deepcopy leaves them out)."""
    copied = copy.deepcopy(model)
    for (_, p), (_, q) in zip(model.named_parameters(), copied.named_parameters()):
        q.grad = None if p.grad is None else p.grad.clone()
    return copied


def oracle_norm(params, members, i):
    return math.sqrt(sum(float((params[p][index(i)].double() ** 2).sum()) for p, index in members))


class RegularizerTests(TempDir):
    def setUp(self):
        super().setUp()
        self.model = randomize(SmallNet(), seed=4)
        with torch.no_grad():   # one weak channel in each of two groups, to be thresholded to zero
            self.model.conv1.weight[2] *= 0.001
            self.model.bn1.weight[2] = 0.001
            self.model.bn1.bias[2] = 0.0
            self.model.bn3.weight[2] = 0.001
            self.model.bn3.bias[2] = 0.0
            self.model.dw.weight[2] *= 0.001
            self.model.dw.bias[2] = 0.0
            self.model.conv2.weight[:, 2] *= 0.001
            self.model.conv3.weight[:, 2] *= 0.001
            self.model.fc1.weight[4] *= 0.001
            self.model.fc1.bias[4] = 0.0
            self.model.fc2.weight[:, 4] *= 0.001
        x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2))
        self.model.train()
        loss = self.model(x).square().mean()
        loss.backward()

    def params(self, model):
        return {n: p.detach().clone() for n, p in model.named_parameters()}

    def test_penalty_subgradient_and_proximal_step_match_the_oracle(self):
        lam, lr = 0.05, 0.1
        for kind in ("oicsr-gl", "gl"):
            for coupled in (False, True):
                with self.subTest(kind=kind, coupled=coupled):
                    sets = oracle_sets(kind, coupled)
                    before = self.params(self.model)
                    grads = {n: p.grad.clone() for n, p in self.model.named_parameters()}
                    norms = [[oracle_norm(before, members, i) for i in range(width)] for width, members in sets]
                    penalty = lam * sum(sum(n) for n in norms)

                    sub = clone(self.model)
                    reg = OICSR(sub, lam, kind=kind, step="subgradient", coupled=coupled, input_shape=(3, 8, 8))
                    self.assertAlmostEqual(reg.penalty(), penalty, places=5)
                    reg.add_subgradient()
                    expected = {n: g.clone() for n, g in grads.items()}
                    for (width, members), group_norms in zip(sets, norms):
                        for i in range(width):
                            if group_norms[i] > 0:
                                for p, index in members:
                                    expected[p][index(i)] += lam * before[p][index(i)] / group_norms[i]
                    for n, p in sub.named_parameters():
                        torch.testing.assert_close(p.grad, expected[n], rtol=1e-5, atol=1e-7, msg=f"gradient of {n}")

                    prox = clone(self.model)
                    reg = OICSR(prox, lam, kind=kind, step="proximal", coupled=coupled, input_shape=(3, 8, 8))
                    reg.proximal_step(lr)
                    expected = {n: v.clone() for n, v in before.items()}
                    factors = [[max(0.0, 1 - lr * lam / n) if n > 0 else 0.0 for n in group_norms] for group_norms in norms]
                    for (width, members), group_factors in zip(sets, factors):
                        for i in range(width):
                            for p, index in members:
                                expected[p][index(i)] *= group_factors[i]
                    for n, p in prox.named_parameters():
                        torch.testing.assert_close(p.detach(), expected[n], rtol=1e-5, atol=1e-7, msg=f"{n} after the step")
                    if kind == "oicsr-gl":
                        self.assertTrue(torch.all(prox.conv1.weight[2] == 0), "a weak out-in-channel reaches zero")
                        self.assertTrue(torch.all(prox.conv2.weight[:, 2] == 0))
                        self.assertTrue(torch.all(prox.fc2.weight[:, 4] == 0))

    def test_l1_on_batchnorm_scales(self):
        lam, lr = 0.2, 0.5
        scales = [m.weight for m in self.model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        sub = clone(self.model)
        reg = OICSR(sub, lam, kind="l1-bn", step="subgradient", input_shape=(3, 8, 8))
        self.assertAlmostEqual(reg.penalty(), lam * sum(float(s.abs().sum()) for s in scales), places=5)
        reg.add_subgradient()
        torch.testing.assert_close(sub.bn2.weight.grad, self.model.bn2.weight.grad + lam * torch.sign(self.model.bn2.weight))
        prox = clone(self.model)
        OICSR(prox, lam, kind="l1-bn", step="proximal", input_shape=(3, 8, 8)).proximal_step(lr)
        gamma = self.model.bn5.weight.detach()
        torch.testing.assert_close(prox.bn5.weight.detach(), torch.sign(gamma) * (gamma.abs() - lr * lam).clamp_min(0))
        self.assertEqual(float(prox.bn1.weight[2]), 0.0)

    def test_batchnorm_can_be_left_out_of_the_groups(self):
        reg = OICSR(self.model, 0.1, input_shape=(3, 8, 8), batchnorm_in_group=False)
        params = self.params(self.model)
        norms = [oracle_norm(params, m, i) for w, m in oracle_sets("oicsr-gl", False, False) for i in range(w)]
        self.assertAlmostEqual(reg.penalty(), 0.1 * sum(norms), places=5)

    def test_energies_are_squared_norms_of_the_whole_group(self):
        reg = OICSR(self.model, 0.1, input_shape=(3, 8, 8), coupled=True)
        energies = reg.energies()
        params = self.params(self.model)
        for name, g in SMALLNET_GROUPS.items():
            members = g["producers"] + g["batchnorm"] + g["depthwise"] + g["consumers"]
            expected = [oracle_norm(params, members, i) ** 2 for i in range(g["width"])]
            for e, x in zip(energies[name], expected):
                self.assertAlmostEqual(e, x, places=5, msg=name)

    def test_dump_writes_a_checkpoint_of_the_current_weights(self):
        reg = OICSR(self.model, 0.01, input_shape=(3, 8, 8), dataset="tiny", class_names=list("abcde"))
        self.assertTrue(reg.dump(self.path("e3.safetensors"), epoch=3))
        checkpoint = ckpt.read(self.path("e3.safetensors"))
        self.assertEqual(checkpoint.metadata["oicsr.epoch"], "3")
        self.assertEqual(checkpoint.metadata["oicsr.regularizer"], "oicsr-gl")
        self.assertEqual(float(checkpoint.metadata["oicsr.lambda"]), 0.01)
        self.assertEqual(checkpoint.class_names, list("abcde"))
        self.assertTrue(torch.equal(checkpoint.tensors["fc1.weight"], self.model.fc1.weight.detach()))


if __name__ == "__main__":
    unittest.main()
