#!/usr/bin/env python3
"""A synthetic corpus in the generic layout (README "Your own corpus") for the issue-16 proof run:
six named classes, fixed train/dev/test splits, a CSV labels file and one .npy per utterance and
modality. Each class has a prototype in a 16-d latent space; an utterance's latent is its class
prototype mixed (weight alpha in [0, 0.5]) with another class's, plus noise; each modality is a
fixed random projection of the latent plus modality noise (text cleanest, video noisiest) and a
private nuisance part. Emotions are sticky within a dialogue, so context helps.

  /usr/bin/python3 bench/make_generic_corpus.py OUT_DIR [--seed 16]
"""
import argparse
import csv
import os

import numpy as np

CLASSES = ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness']
DIMS = {'a': 48, 't': 64, 'v': 48}
NOISE = {'a': 1.2, 't': 0.6, 'v': 2.0}
SPLITS = [('train', 60), ('dev', 10), ('test', 24)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--seed', type=int, default=16)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    K = 16
    protos = np.linalg.qr(rng.standard_normal((K, K)))[0][: len(CLASSES)] * 3.0
    W = {m: rng.standard_normal((d, K)) / np.sqrt(K) for m, d in DIMS.items()}
    P = {m: rng.standard_normal((d, 4)) for m, d in DIMS.items()}
    prior = np.array([0.12, 0.08, 0.08, 0.24, 0.30, 0.18])
    for m in DIMS:
        os.makedirs(os.path.join(args.out, 'features', m), exist_ok=True)
    rows = []
    for split, n_dialogues in SPLITS:
        for d in range(n_dialogues):
            dialogue = '%s_dia%d' % (split, d)
            y = rng.choice(len(CLASSES), p=prior)
            for u in range(rng.integers(8, 15)):
                if rng.random() > 0.7:
                    y = rng.choice(len(CLASSES), p=prior)
                other = (y + 1 + rng.integers(len(CLASSES) - 1)) % len(CLASSES)
                alpha = rng.uniform(0, 0.5)
                z = (1 - alpha) * protos[y] + alpha * protos[other] + rng.standard_normal(K)
                uid = '%s_utt%d' % (dialogue, u)
                for m in DIMS:
                    x = W[m] @ (z + NOISE[m] * rng.standard_normal(K)) + P[m] @ rng.standard_normal(4) * 0.5
                    np.save(os.path.join(args.out, 'features', m, uid + '.npy'), x.astype(np.float32))
                rows.append({'id': uid, 'dialogue': dialogue, 'speaker': 'AB'[u % 2], 'label': CLASSES[y], 'split': split})
    with open(os.path.join(args.out, 'labels.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['id', 'dialogue', 'speaker', 'label', 'split'])
        w.writeheader()
        w.writerows(rows)
    print('wrote %d utterances in %d dialogues to %s' % (len(rows), sum(n for _, n in SPLITS), args.out))


if __name__ == '__main__':
    main()
