"""DCGAN speed: a plain pytorch/examples-style loop against ganlab's Trainer.

Both train the same nets (the ``dcgan-28`` preset of ganlab.models: G 100 ->
128x7x7 -> 64x14x14 -> 1x28x28, D 64 -> 128 strided convolutions -> logit) on
the same data (the 28 x 28 digits of ganlab.datasets, or MNIST with --mnist),
batch 64, Adam 2e-4 (0.5, 0.999), the non-saturating GAN.

* "plain": the training step of pytorch/examples ``dcgan/main.py``, written out:
  D on the real batch (forward, backward), D on the detached fake batch
  (forward, backward), optimizerD.step(); then G: D on the same fake batch,
  backward, optimizerG.step(); BCELoss on sigmoid outputs; ``.item()`` for the
  logged numbers; a fresh minibatch moved to the device each step.
* "ganlab": the Trainer, recording what the course draws (per-step history, a
  snapshot of 64 fixed-z images every 100 steps, the divergence guard), in
  float32 with the default settings.
* "ganlab_channels_last": the same with ``channels_last=True`` (NHWC images
  and convolution weights).
* on a GPU also "ganlab_fast": ``amp=True`` (bfloat16 autocast),
  ``channels_last=True``, cudnn autotuning; and "ganlab_compiled" (the same
  with ``compile="default"``) and "ganlab_graphs" (``compile="reduce-overhead"``:
  CUDA graphs).  A variant that fails to build is reported and skipped.

All run in ONE process, interleaved in blocks (the order flips every round),
so that load from other processes hits them alike; the number that counts is
the median over rounds of the per-round ratio to "plain".

    python benchmarks/bench_dcgan.py                  # CPU, 1 thread, 5 rounds of 30 steps
    python benchmarks/bench_dcgan.py --device cuda --block 300 --mnist

It prints images/s of each and the ratio; no pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from ganlab.datasets import ImageData, load_digits, load_mnist
from ganlab.models import make_preset
from ganlab.train import Trainer, resolve_device

BATCH, NZ, LR, BETAS = 64, 100, 2e-4, (0.5, 0.999)


def make_nets(seed: int):
    torch.manual_seed(seed)
    return make_preset("dcgan-28")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class PlainLoop:
    """The pytorch/examples dcgan/main.py training step, for 28 x 28 digits."""

    def __init__(self, images: torch.Tensor, device: torch.device, seed: int):
        self.images, self.device = images, device
        self.netG, self.netD = (net.to(device) for net in make_nets(seed))
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=LR, betas=BETAS)
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=LR, betas=BETAS)
        self.real_label, self.fake_label = 1.0, 0.0
        self.G_losses, self.D_losses = [], []

    def run(self, steps: int) -> None:
        netG, netD, criterion, device = self.netG, self.netD, self.criterion, self.device
        for _ in range(steps):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = self.images[torch.randint(len(self.images), (BATCH,))].to(device)
            label = torch.full((BATCH,), self.real_label, dtype=real_cpu.dtype, device=device)
            output = torch.sigmoid(netD(real_cpu)).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.randn(BATCH, NZ, device=device)
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
        _sync(device)


class GanlabLoop:
    """ganlab's Trainer on the same nets, data and batch (recording on)."""

    def __init__(self, images: torch.Tensor, device: torch.device, seed: int, **overrides):
        G, D = make_nets(seed)
        self.device = device
        self.trainer = Trainer(G, D, ImageData(images), objective="nonsaturating", lr_g=LR, lr_d=LR, betas=BETAS,
                               batch_size=BATCH, device=str(device), seed=seed, snapshot_every=100,
                               n_snapshot=64, z_grid_size=2, metrics_every=0, **overrides)

    def run(self, steps: int) -> None:
        self.trainer.fit(steps, progress=False)
        _sync(self.device)


def timed(loop, steps: int) -> float:
    start = time.perf_counter()
    loop.run(steps)
    return steps * BATCH / (time.perf_counter() - start)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"CPU ({platform.machine()}, {torch.get_num_threads()} thread(s))"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA when present)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=30, help="steps per block")
    parser.add_argument("--warmup", type=int, default=10, help="steps before timing (compiling happens here)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mnist", action="store_true", help="train on MNIST (downloads it once) instead of the digits")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = torch.from_numpy(load_mnist("train")[0] if args.mnist else load_digits(28, "train")[0])

    builders = {"plain": lambda: PlainLoop(images, device, seed=0),
                "ganlab": lambda: GanlabLoop(images, device, seed=0)}
    builders["ganlab_channels_last"] = lambda: GanlabLoop(images, device, seed=0, channels_last=True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # pick the fastest convolution kernels for these shapes
        fast = {"amp": True, "channels_last": True}
        builders["ganlab_fast"] = lambda: GanlabLoop(images, device, seed=0, **fast)
        builders["ganlab_compiled"] = lambda: GanlabLoop(images, device, seed=0, compile="default", **fast)
        builders["ganlab_graphs"] = lambda: GanlabLoop(images, device, seed=0, compile="reduce-overhead", **fast)
    loops = {}
    for name, build in builders.items():
        try:
            loop = build()
            start = time.perf_counter()
            loop.run(args.warmup)
            loops[name] = loop
            print(f"{name}: warm-up {args.warmup} steps in {time.perf_counter() - start:.1f} s", flush=True)
        except Exception as exc:  # a variant this torch / GPU cannot build: report, go on
            print(f"{name}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})", flush=True)

    speeds = {name: [] for name in loops}
    for r in range(args.rounds):
        order = list(loops) if r % 2 == 0 else list(loops)[::-1]
        for name in order:
            speeds[name].append(timed(loops[name], args.block))
        print(f"round {r + 1}: " + "   ".join(f"{name} {speeds[name][-1]:8.0f}" for name in loops) + "  images/s",
              flush=True)
    data = "MNIST" if args.mnist else "digits 28x28"
    print(f"device: {device_name(device)}; torch {torch.__version__}; data: {data}; batch {BATCH}; "
          f"{args.rounds} rounds x {args.block} steps, interleaved; images/s median, "
          "ratio = median of per-round ratios to plain")
    for name in loops:
        ratios = [s / p for s, p in zip(speeds[name], speeds["plain"])]
        print(f"{name:22s} {statistics.median(speeds[name]):9.0f} images/s   ratio {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
