"""How fast is ganlab's Trainer next to a plain textbook PyTorch loop?

Both train the same nets on the same maths: the non-saturating GAN on the
8-Gaussian ring, G and D 3x128 ReLU MLPs (ganlab.models), z 2-D Gaussian,
batch 256, Adam 1e-4 (0.5, 0.999).

* "textbook": the loop written out as in pytorch/examples dcgan/main.py:
  D on the real batch (forward, backward), D on the detached fake batch
  (forward, backward), optimizerD.step(); then G: D on the SAME fake batch,
  backward, optimizerG.step(); BCELoss on sigmoid outputs, .item() for the
  logged numbers, a fresh data batch each step.
* "ganlab": Trainer with the "textbook" recipe, record on (per-step history,
  snapshots every 100 steps, mode metrics every 500, divergence guard).
* "floor": the same maths by hand with the Trainer's tricks and nothing else
  (no record, no guard): what this step costs on this machine.
* "ganlab_fresh_z" (with --fresh-z): the Trainer with reuse_fake=False.

The two run in ONE process, interleaved in blocks (textbook block, ganlab
block, ...; the order flips every round), single-threaded, so that load from
other processes on a shared machine hits both alike; the number that counts is
the median over rounds of the per-round ratio ganlab / textbook.

    python benchmarks/bench_trainer.py              # 5 rounds of 300 steps
    python benchmarks/bench_trainer.py --rounds 9 --block 500

It prints steps/s for each and the ratio to the textbook loop; no pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.data import ring
from ganlab.models import MLPDiscriminator, MLPGenerator
from ganlab.recipes import get_recipe
from ganlab.train import Trainer

BATCH, NZ = 256, 2


def make_nets(seed: int):
    torch.manual_seed(seed)
    return MLPGenerator(z_dim=NZ, out_dim=2, depth=3, width=128), MLPDiscriminator(in_dim=2, depth=3, width=128)


class TextbookLoop:
    """The pytorch/examples dcgan/main.py training step, for 2-D data."""

    def __init__(self, data, seed: int):
        self.data = data
        self.netG, self.netD = make_nets(seed)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=1e-4, betas=(0.5, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=1e-4, betas=(0.5, 0.999))
        self.real_label, self.fake_label = 1.0, 0.0
        self.G_losses, self.D_losses = [], []

    def run(self, steps: int) -> None:
        netG, netD, criterion = self.netG, self.netD, self.criterion
        for _ in range(steps):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = self.data.sample(BATCH)
            label = torch.full((BATCH,), self.real_label, dtype=real_cpu.dtype)
            output = torch.sigmoid(netD(real_cpu)).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.randn(BATCH, NZ)
            fake = netG(noise)
            label.fill_(self.fake_label)
            output = torch.sigmoid(netD(fake.detach())).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            self.optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(self.real_label)  # fake labels are real for generator cost
            output = torch.sigmoid(netD(fake)).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            self.optimizerG.step()

            self.G_losses.append(errG.item())
            self.D_losses.append(errD.item())
            del D_x, D_G_z1, D_G_z2


class GanlabLoop:
    """ganlab's Trainer with the textbook recipe (record, snapshots, metrics, guard on)."""

    def __init__(self, data, seed: int, **overrides):
        G, D = make_nets(seed)
        self.trainer = Trainer(G, D, data, get_recipe("textbook").config, seed=seed, **overrides)

    def run(self, steps: int) -> None:
        self.trainer.fit(steps, progress=False)


class FloorLoop:
    """The same maths by hand with every trick the Trainer uses and nothing
    else (no record, no guard): how fast this step can go here.  Shows how
    much of the remaining time is the maths itself."""

    def __init__(self, data, seed: int):
        self.data = data
        self.G, self.D = make_nets(seed)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-4, betas=(0.5, 0.999), fused=True)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-4, betas=(0.5, 0.999), fused=True)
        self.params_d = list(self.D.parameters())
        self.gen = torch.Generator().manual_seed(seed)
        self.losses = []

    def run(self, steps: int) -> None:
        G, D, B, blocks = self.G, self.D, BATCH, 64
        x_block = z_block = None
        for i in range(steps):
            if i % blocks == 0:
                x_block = self.data.sample(B * blocks, generator=self.gen)
                z_block = torch.randn(B * blocks, NZ, generator=self.gen)
            j = (i % blocks) * B
            x_real, z = x_block[j : j + B], z_block[j : j + B]
            x_fake = G(z)
            logits = D(torch.cat([x_real, x_fake.detach()]))
            loss_d = F.softplus(-logits[:B]).mean() + F.softplus(logits[B:]).mean()
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            for p in self.params_d:
                p.requires_grad_(False)
            loss_g = F.softplus(-D(x_fake)).mean()
            for p in self.params_d:
                p.requires_grad_(True)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            self.losses.append(torch.stack([loss_d.detach(), loss_g.detach()]))
            if len(self.losses) == 100:
                torch.stack(self.losses).tolist()
                self.losses.clear()


def timed(loop, steps: int) -> float:
    start = time.perf_counter()
    loop.run(steps)
    return steps / (time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=300, help="steps per block")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fresh-z", action="store_true", help="also time the Trainer with reuse_fake=False")
    parser.add_argument("--no-floor", action="store_true", help="skip the hand-written floor loop")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = ring()
    loops = {"textbook": TextbookLoop(data, seed=0), "ganlab": GanlabLoop(data, seed=0)}
    if args.fresh_z:
        loops["ganlab_fresh_z"] = GanlabLoop(data, seed=0, reuse_fake=False)
    if not args.no_floor:
        loops["floor"] = FloorLoop(data, seed=0)
    for loop in loops.values():
        loop.run(args.warmup)

    speeds = {name: [] for name in loops}
    for r in range(args.rounds):
        order = list(loops) if r % 2 == 0 else list(loops)[::-1]
        for name in order:
            speeds[name].append(timed(loops[name], args.block))
        print(f"round {r + 1}: " + "   ".join(f"{name} {speeds[name][-1]:6.1f}" for name in loops) + "  steps/s",
              flush=True)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds x {args.block} steps, "
          "interleaved; steps/s median, ratio = median of per-round ratios to textbook")
    for name in loops:
        ratios = [s / t for s, t in zip(speeds[name], speeds["textbook"])]
        print(f"{name:15s} {statistics.median(speeds[name]):7.1f} steps/s   ratio {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
