"""DistributedDataParallel: two processes (gloo, localhost) train SmallNet with the regularizer;
afterwards both ranks hold identical parameters, equal to one process on the global batch."""
import os
import socket
import unittest

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from helpers import SmallNet, TempDir, randomize
from oicsr_torch import checkpoint as ckpt
from oicsr_torch.regularizer import OICSR

STEPS, LR, LAM, BATCH = 4, 0.1, 0.05, 8


def data():
    generator = torch.Generator().manual_seed(7)
    xs = torch.randn(STEPS, BATCH, 3, 8, 8, generator=generator)
    ys = torch.randint(0, 5, (STEPS, BATCH), generator=generator)
    return xs, ys


def fresh_model():
    model = randomize(SmallNet(), seed=5)
    model.train()
    for m in model.modules():   # BatchNorm statistics per rank would differ from the global batch's
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    return model


def train(model, reg, batches, step_mode):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        if step_mode == "subgradient":
            reg.add_subgradient()
        optimizer.step()
        if step_mode == "proximal":
            reg.proximal_step(LR)


def worker(rank, port, step_mode, folder):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        model = torch.nn.parallel.DistributedDataParallel(fresh_model())
        reg = OICSR(model, LAM, step=step_mode, input_shape=(3, 8, 8))
        xs, ys = data()
        half = BATCH // 2
        train(model, reg, [(x[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half]) for x, y in zip(xs, ys)],
              step_mode)
        torch.save({n: p.detach().clone() for n, p in model.module.named_parameters()},
                   os.path.join(folder, f"rank{rank}.pt"))
        wrote = reg.dump(os.path.join(folder, "dump.safetensors"), epoch=1)
        torch.save(wrote, os.path.join(folder, f"wrote{rank}.pt"))
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DistributedTests(TempDir):
    def run_mode(self, step_mode):
        folder = self.path(step_mode)
        os.makedirs(folder)
        mp.spawn(worker, args=(free_port(), step_mode, folder), nprocs=2, join=True)
        ranks = [torch.load(os.path.join(folder, f"rank{r}.pt")) for r in range(2)]
        single = fresh_model()
        reg = OICSR(single, LAM, step=step_mode, input_shape=(3, 8, 8))
        self.assertTrue(single.training and not single.bn1.training, "tracing keeps every module's own mode")
        train(single, reg, list(zip(*data())), step_mode)
        for name, p in single.named_parameters():
            self.assertTrue(torch.equal(ranks[0][name], ranks[1][name]), f"{name} differs between the ranks")
            torch.testing.assert_close(ranks[0][name], p.detach(), rtol=1e-4, atol=1e-5,
                                       msg=f"{name}: DDP against one process")
        self.assertEqual([torch.load(os.path.join(folder, f"wrote{r}.pt")) for r in range(2)], [True, False])
        self.assertEqual(ckpt.read(os.path.join(folder, "dump.safetensors")).metadata["oicsr.epoch"], "1")
        return single

    def test_proximal(self):
        self.run_mode("proximal")

    def test_subgradient(self):
        self.run_mode("subgradient")


if __name__ == "__main__":
    unittest.main()
