"""A plain DCGAN-sized SGAN step, as the yardstick for our training throughput.

DCGAN's shapes scaled to 28x28 (D: 64-128-256 strided convs with batch norm; G: the
mirror image), batch 64 for labeled, unlabeled and fake images, the same SGAN losses.
Only used by bench_training.py; never by the product.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from sgan_core.training import losses
from sgan_core.data.batches import to_unit_range
from sgan_core.config import TrainConfig
from sgan_core.data.loading import load_split
from sgan_core.training.trainer import Trainer

DCGAN_BATCH = 64


class DcganDiscriminator(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),  # 14x14
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),  # 7x7
            nn.Conv2d(128, 256, 3, 2, 1), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),  # 4x4
            nn.Flatten())
        self.head = nn.Linear(256 * 4 * 4, num_classes)

    def forward(self, x):
        features = self.trunk(x)
        return self.head(features), features


def dcgan_generator(noise_dim: int = 100) -> nn.Module:
    return nn.Sequential(
        nn.Linear(noise_dim, 256 * 7 * 7), nn.BatchNorm1d(256 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())  # 28x28


def _dcgan_steps(split, steps: int) -> float:
    d, g = DcganDiscriminator(), dcgan_generator()
    d_opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    started = time.perf_counter()
    for _ in range(steps):
        lab = torch.randint(0, len(split.labeled_images), (DCGAN_BATCH,))
        unl = torch.randint(0, len(split.unlabeled_images), (DCGAN_BATCH,))
        x_lab, y_lab = to_unit_range(split.labeled_images[lab]), split.labeled_targets[lab]
        x_unl = to_unit_range(split.unlabeled_images[unl])
        fake = g(torch.rand(DCGAN_BATCH, 100))
        d_loss = (losses.supervised_loss(d(x_lab)[0], y_lab)
                  + 0.5 * losses.real_unsupervised_loss(d(x_unl)[0])
                  + 0.5 * losses.fake_unsupervised_loss(d(fake.detach())[0]))
        d_opt.zero_grad(); d_loss.backward(); d_opt.step()
        g_loss = losses.non_saturating_loss(d(fake)[0])
        g_opt.zero_grad(); g_loss.backward(); g_opt.step()
    return steps * 2 * DCGAN_BATCH / (time.perf_counter() - started)


def time_steps(name: str, data_dir: str, steps: int) -> float:
    """Real (labeled + unlabeled) images per second over `steps` steps after warm-up."""
    torch.set_num_threads(2)
    cfg = TrainConfig(data_dir=data_dir, download=False)
    split = load_split(cfg)
    if name.startswith("dcgan"):
        _dcgan_steps(split, 3)  # warm-up: first calls allocate
        return _dcgan_steps(split, steps)
    trainer = Trainer(cfg, split)
    for _ in range(3):
        trainer.train_step()
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    elapsed = time.perf_counter() - started
    return steps * (cfg.batch_size + cfg.labeled_batch_size) / elapsed
