#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:step`: the student of docs/method.md §3 at the same size, one training
step (forward, backward, Adam) per iteration, 2 threads. Spawned by bench/step.ts with
OMP_WAIT_POLICY=PASSIVE; prints per-step times and peak RSS as one JSON line (wall and CPU ms per step).
bench/torch_epoch.py imports `make_student` and `stage2_loss` from here.

Model (mirrors src/model): per-modality projection Linear(d_m, D) on zero-filled missing inputs +
dropout; per modality an expert of L layers z <- z + A'(z), A'(z) = A(z) + MLP(A(z)), A = masked
2-head self-attention (q, k, v Linear(D, D), scale 1/sqrt(D/H), no output projection, rows without
keys give 0), MLP = Linear-GELU-Dropout-Linear-Dropout; fusion head on [r_a; r_t; r_v] (missing
zeroed): u = z + Dropout(ReLU(W1 z)), logits = Wo u; decoder 3D -> 1024 -> d_a + d_t + d_v.
Loss: masked CE + reconstruction of missing modalities (docs/method.md §4). Adam(lr 1e-4, weight decay 1e-5).
"""
import argparse
import json
import math
import resource
import sys
import time

B, S, DIMS, D, L, H, P, C = 16, 50, {'a': 512, 't': 1024, 'v': 1024}, 256, 4, 2, 0.5, 4
MODS = ('a', 't', 'v')


def make_student(torch):
    """The student (any batch and dialogue length), in training mode."""
    from torch import nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)
            self.fc1, self.fc2 = nn.Linear(D, D), nn.Linear(D, D)
            self.drop = nn.Dropout(P)

        def forward(self, z, mask):  # z [B, S, D], mask [B, S] bool
            dh = D // H
            b, s = z.shape[0], z.shape[1]
            split = lambda t: t.view(b, s, H, dh).transpose(1, 2)
            q, k, v = split(self.q(z)), split(self.k(z)), split(self.v(z))
            scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
            keep = mask[:, None, None, :]
            has_key = keep.any(-1, keepdim=True)
            p = torch.softmax(scores.masked_fill(~(keep | ~has_key), float('-inf')), -1) * has_key
            a = (p @ v).transpose(1, 2).reshape(b, s, D)
            return a + self.drop(self.fc2(self.drop(nn.functional.gelu(self.fc1(a)))))

    class Student(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.ModuleDict({m: nn.Linear(DIMS[m], D) for m in MODS})
            self.experts = nn.ModuleDict({m: nn.ModuleList([Attention() for _ in range(L)]) for m in MODS})
            self.w1, self.wo = nn.Linear(3 * D, 3 * D), nn.Linear(3 * D, C)
            self.dec1, self.dec2 = nn.Linear(3 * D, 1024), nn.Linear(1024, sum(DIMS.values()))
            self.drop = nn.Dropout(P)

        def forward(self, x, masks):
            reps = []
            for m in MODS:
                z = self.drop(self.proj[m](x[m] * masks[m][..., None]))
                for block in self.experts[m]:
                    z = z + block(z, masks[m].bool())
                reps.append(z * masks[m][..., None])
            z = torch.cat(reps, -1)
            u = z + self.drop(torch.relu(self.w1(z)))
            return self.wo(u), self.dec2(torch.relu(self.dec1(u)))

    model = Student()
    model.train()
    return model


def stage2_loss(torch, model, x, masks, umask, labels):
    """Masked CE + reconstruction of the missing modalities. x[m] [B, S, d_m]; masks[m], umask [B, S]."""
    from torch import nn
    b, s = umask.shape
    n_real = umask.sum().clamp(min=1)
    logits, recon = model(x, masks)
    nll = nn.functional.cross_entropy(logits.reshape(-1, C), labels.reshape(-1), reduction='none').view(b, s)
    loss = (nll * umask).sum() / n_real
    parts = torch.split(recon, [DIMS[m] for m in MODS], -1)
    rec = sum(((parts[i] - x[m]) ** 2).mean(-1) * (umask - masks[m]) for i, m in enumerate(MODS))
    return loss + rec.sum() / n_real


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    args = ap.parse_args()
    try:
        import torch
    except ImportError as e:
        print(json.dumps({'error': f'PyTorch not importable: {e}'}))
        return
    torch.set_num_threads(2)
    torch.manual_seed(0)

    g = torch.Generator().manual_seed(2)
    x = {m: torch.randn(B, S, DIMS[m], generator=g) for m in MODS}
    lengths = torch.randint(25, S + 1, (B,), generator=g)
    umask = (torch.arange(S)[None, :] < lengths[:, None]).float()
    avail = (torch.rand(B, S, 3, generator=g) >= 0.3).float()
    avail[..., 0] = torch.where(avail.sum(-1) == 0, torch.ones(()), avail[..., 0])  # keep at least one
    avail = avail * umask[..., None]
    masks = {m: avail[..., i] for i, m in enumerate(MODS)}
    labels = torch.randint(0, C, (B, S), generator=g)

    model = make_student(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)

    def step():
        loss = stage2_loss(torch, model, x, masks, umask, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    times, cpu_times = [], []
    for i in range(args.warmup + args.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        loss = step()
        dt = (time.perf_counter() - t0) * 1000
        if i >= args.warmup:
            times.append(dt)
            cpu_times.append((time.process_time() - c0) * 1000)
        print(f'ref step {i + 1}/{args.warmup + args.steps}{" (warm-up)" if i < args.warmup else ""}: {dt:.0f} ms, loss {loss:.4f}', file=sys.stderr)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({'steps_ms': times, 'steps_cpu_ms': cpu_times, 'rss_mb': peak_rss_mb(), 'params': params, 'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
