#!/usr/bin/env python3
"""Record a PyTorch reference for the engine's gradient-parity test (test/engine/parity.test.ts).

Run with Debian's interpreter (it has python3-torch):  /usr/bin/python3 scripts/make_parity_fixture.py

The computation is one expert layer (docs/method.md §3) plus a classifier and the masked
cross-entropy of §4, small enough to commit:
    a      = MaskedSelfAttention(x; key_mask)   q, k, v = Linear(D, D); H heads; scale 1/sqrt(D/H);
                                                 masked keys excluded; a query with no key gets 0;
                                                 heads concatenated, no output projection
    y      = x + a + MLP(a)                      MLP = Linear(D, D) -> GELU (exact, erf) -> Linear(D, D)
    logits = y Wc + bc                           [B, S, C]
    loss   = sum_{real utterances} CE(logits, label) / #real
Dialogue 1 has every key masked (a fully masked row for all its queries); some utterances are padding
(padding is never a key; the loss counts real utterances only).

The reference masks with -inf and replaces rows without any key by an all-keys softmax times 0, so it
is independent of the engine's finite-bias trick. It runs in float64 on weights and inputs rounded to
float32 (the values stored), so the recorded loss and gradients are exact for those values.
Weights are stored as [in, out] (x W + b, the engine's convention; torch's Linear stores [out, in]).
"""
import json
import math
import os

import torch

B, S, D, H, C = 2, 5, 8, 2, 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'parity', 'attention_mlp_ce.json')


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def main():
    g = torch.Generator().manual_seed(20250101)
    x = f32(torch.randn(B, S, D, generator=g, dtype=torch.float64))
    key_mask = torch.tensor([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=torch.float64)
    umask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], dtype=torch.float64)
    labels = torch.tensor([[0, 2, 1, 2, 0], [1, 0, 2, 0, 0]], dtype=torch.int64)

    def linear(fan_in, fan_out):
        lim = math.sqrt(6 / (fan_in + fan_out))
        w = f32((torch.rand(fan_in, fan_out, generator=g, dtype=torch.float64) * 2 - 1) * lim)
        b = f32(torch.randn(fan_out, generator=g, dtype=torch.float64) * 0.1)
        return w.requires_grad_(), b.requires_grad_()

    params = {}
    for name, (fi, fo) in [('q', (D, D)), ('k', (D, D)), ('v', (D, D)), ('fc1', (D, D)), ('fc2', (D, D)), ('cls', (D, C))]:
        params[f'{name}.W'], params[f'{name}.b'] = linear(fi, fo)
    x.requires_grad_()

    def lin(t, name):
        return t @ params[f'{name}.W'] + params[f'{name}.b']

    dh = D // H
    split = lambda t: t.reshape(B, S, H, dh).transpose(1, 2)  # [B, H, S, dh]
    q, k, v = split(lin(x, 'q')), split(lin(x, 'k')), split(lin(x, 'v'))
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)  # [B, H, S, S]
    keep = key_mask.bool()[:, None, None, :].expand_as(scores)
    has_key = keep.any(-1, keepdim=True)
    safe_keep = keep | ~has_key  # rows without keys: softmax over all, then zeroed
    p = torch.softmax(scores.masked_fill(~safe_keep, float('-inf')), -1) * has_key
    a = (p @ v).transpose(1, 2).reshape(B, S, D)
    gelu = torch.nn.functional.gelu(lin(a, 'fc1'))  # exact (erf) GELU
    y = x + a + lin(gelu, 'fc2')
    logits = lin(y, 'cls')
    nll = -torch.log_softmax(logits, -1).gather(-1, labels[..., None])[..., 0]
    loss = (nll * umask).sum() / umask.sum()
    loss.backward()

    def dump(t):
        t = t.detach()
        return {'shape': list(t.shape), 'data': [float(v) for v in t.reshape(-1).tolist()]}

    fixture = {
        'about': 'scripts/make_parity_fixture.py: attention (2 heads, key mask with a fully masked dialogue) + residual GELU MLP + masked CE',
        'torch_version': torch.__version__,
        'config': {'B': B, 'S': S, 'D': D, 'H': H, 'C': C},
        'inputs': {'x': dump(x), 'keyMask': dump(key_mask), 'umask': dump(umask), 'labels': dump(labels.to(torch.float64))},
        'params': {n: dump(t) for n, t in params.items()},
        'loss': float(loss),
        'grads': {**{n: dump(t.grad) for n, t in params.items()}, 'x': dump(x.grad)},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(fixture, fh, indent=1)
        fh.write('\n')
    print(f'wrote {os.path.relpath(OUT)}: loss {float(loss):.6f}')


if __name__ == '__main__':
    main()
