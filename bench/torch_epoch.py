#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:epoch`: one stage-2 student epoch over the padded batches
bench/epoch.ts wrote (same dialogues, same padding, same availability masks and labels), each batch
taken `--views` times in a row (the curriculum's K + 1 views), one Adam step per view, 2 threads.
Timed: the loop over all steps (forward, backward, Adam), after one untimed warm-up step on the first
batch; the batches are loaded into tensors before the clock starts, as ours are built before its.
Prints one JSON line: epoch wall and CPU ms, per-step wall ms, peak RSS.
"""
import argparse
import json
import sys
import time

from torch_ref import DIMS, MODS, make_student, peak_rss_mb, stage2_loss


def load_batches(torch, np, header):
    raw = np.fromfile(header['bin'], dtype='<f4')
    out = []
    for b in header['batches']:
        nb, s, off = b['B'], b['S'], b['offset']

        def take(n, shape):
            nonlocal off
            t = torch.from_numpy(raw[off:off + n].reshape(shape).copy())
            off += n
            return t
        x = {m: take(nb * s * DIMS[m], (nb, s, DIMS[m])) for m in MODS}
        umask = take(nb * s, (nb, s))
        avail = take(nb * s * 3, (nb, s, 3))
        labels = take(nb * s, (nb, s)).long()
        out.append((x, {m: avail[..., i].contiguous() for i, m in enumerate(MODS)}, umask, labels))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('header')
    ap.add_argument('--views', type=int, required=True)
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(json.dumps({'error': f'PyTorch/NumPy not importable: {e}'}))
        return
    torch.set_num_threads(2)
    torch.manual_seed(0)
    with open(args.header) as f:
        header = json.load(f)
    batches = load_batches(torch, np, header)
    model = make_student(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)

    def step(batch):
        loss = stage2_loss(torch, model, *batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    step(batches[0])  # warm-up
    steps_ms = []
    c0, t0 = time.process_time(), time.perf_counter()
    for i, batch in enumerate(batches):
        for _ in range(args.views):
            s0 = time.perf_counter()
            loss = step(batch)
            steps_ms.append((time.perf_counter() - s0) * 1000)
        print(f'ref batch {i + 1}/{len(batches)} (S={batch[2].shape[1]}): loss {loss:.4f}', file=sys.stderr)
    epoch_ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - c0) * 1000
    print(json.dumps({'epoch_ms': epoch_ms, 'epoch_cpu_ms': cpu_ms, 'steps_ms': steps_ms, 'rss_mb': peak_rss_mb(),
                      'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
