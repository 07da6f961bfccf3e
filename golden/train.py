"""Training loops (fixed seeds, CPU) and the data augmentations they use."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

Progress = Callable[[int, int, str], None]   # (step, total, message)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def augment_affine(x: torch.Tensor, gen: torch.Generator, rot_deg=12.0, shift_px=2.5,
                   scale=0.10, padding_mode="zeros") -> torch.Tensor:
    """Random rotation, shift and scale of a batch of images (bilinear; zero fill, or
    `padding_mode="border"` to repeat the edge, for images with a coloured background)."""
    n, _, h, w = x.shape
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rot_deg)
    s = 1 + (torch.rand(n, generator=gen) * 2 - 1) * scale
    tx = (torch.rand(n, generator=gen) * 2 - 1) * shift_px * 2 / w
    ty = (torch.rand(n, generator=gen) * 2 - 1) * shift_px * 2 / h
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode=padding_mode)


def augment_spectro(x: torch.Tensor, gen: torch.Generator, max_shift=4, time_mask=6,
                    freq_mask=2) -> torch.Tensor:
    """Time shift (in frames) plus one time and one coefficient mask (SpecAugment-like)."""
    x = x.clone()
    n, _, t, f = x.shape
    for i in range(n):
        k = int(torch.randint(-max_shift, max_shift + 1, (1,), generator=gen))
        if k:
            x[i] = torch.roll(x[i], k, dims=1)
            if k > 0:
                x[i, :, :k] = 0
            else:
                x[i, :, k:] = 0
        t0 = int(torch.randint(0, t - time_mask + 1, (1,), generator=gen))
        tw = int(torch.randint(0, time_mask + 1, (1,), generator=gen))
        x[i, :, t0:t0 + tw] = 0
        f0 = int(torch.randint(0, f - freq_mask + 1, (1,), generator=gen))
        fw = int(torch.randint(0, freq_mask + 1, (1,), generator=gen))
        x[i, :, :, f0:f0 + fw] = 0
    return x


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return correct / max(1, len(x))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
                     lr: float, batch: int = 128, seed: int = 0,
                     augment: Callable | None = None, weight_decay: float = 1e-4,
                     label_smoothing: float = 0.0,
                     val: tuple[torch.Tensor, torch.Tensor] | None = None,
                     progress: Progress | None = None) -> dict:
    """AdamW with a one-cycle schedule; keeps the weights of the best validation epoch."""
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch)
    best = (-1.0, None)
    logit_scale = getattr(model, "logit_scale", 1.0)   # integer-domain models have huge logits
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb = x[idx]
            if augment is not None:
                xb = augment(xb, gen)
            loss = F.cross_entropy(model(xb) * logit_scale, y[idx], label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if hasattr(model, "clamp_"):
                model.clamp_()
            total += float(loss.detach()) * len(idx)
        msg = f"epoch {epoch + 1}/{epochs} loss {total / len(x):.4f}"
        if val is not None:
            acc = accuracy(model, *val)
            msg += f" val {acc:.4f}"
            if acc >= best[0]:
                best = (acc, {k: v.clone() for k, v in model.state_dict().items()})
        if progress:
            progress(epoch + 1, epochs, msg)
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()
    return {"best_val": best[0], "epochs": epochs}


def train_regressor(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
                    lr: float, batch: int = 16, seed: int = 0,
                    progress: Progress | None = None) -> dict:
    """MSE regression (seed 004 trains with RMSprop/MSE; Adam converges faster here)."""
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = F.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if progress and (epoch + 1) % 10 == 0:
            progress(epoch + 1, epochs, f"epoch {epoch + 1}/{epochs} mse {float(loss):.5f}")
    model.eval()
    return {"epochs": epochs}
