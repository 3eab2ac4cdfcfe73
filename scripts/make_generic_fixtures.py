#!/usr/bin/env python3
"""Writes the generic-layout fixtures under fixtures/data/generic/ (README "Your own corpus"):

  named/       labels.csv with a split column (dev = valid), named classes, features a and t only
               (no features/v: a modality the corpus lacks), one frame-level [T, d] audio array,
               rows of two dialogues interleaved, a quoted speaker holding a comma
  regression/  labels.jsonl with a group column (groups S1, S2, S10: numeric order), numeric labels,
               features a, t, v (one [T, d] video array)

Each folder gets an expected.json with what the loader must produce (pooled with NumPy here).
Tests derive the bad inputs from these trees (copy, then change one thing).
  python3 scripts/make_generic_fixtures.py
"""
import csv
import json
import os
import shutil

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'data', 'generic')
rng = np.random.default_rng(16)


def as_list(a):
    return np.asarray(a, dtype=np.float64).tolist()


def write_features(root, rows, dims, frames):
    """One .npy per utterance and modality; `frames` = {(id, m): T} are written [T, d]."""
    expected = {}
    for r in rows:
        e = expected.setdefault(r['id'], {})
        for m, d in dims.items():
            os.makedirs(os.path.join(root, 'features', m), exist_ok=True)
            T = frames.get((r['id'], m))
            x = rng.standard_normal((T, d) if T else d).astype(np.float32)
            np.save(os.path.join(root, 'features', m, r['id'] + '.npy'), x)
            e[m] = as_list(x.mean(axis=0, dtype=np.float64).astype(np.float32) if T else x)
    return expected


def write_named():
    root = os.path.join(ROOT, 'named')
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rows = [
        dict(id='d1_u1', dialogue='d1', speaker='Smith, J', label='joy', split='train'),
        dict(id='d2_u1', dialogue='d2', speaker='B', label='anger', split='train'),
        dict(id='d1_u2', dialogue='d1', speaker='A', label='neutral', split='train'),
        dict(id='d1_u3', dialogue='d1', speaker='Smith, J', label='joy', split='train'),
        dict(id='d2_u2', dialogue='d2', speaker='A', label='sad', split='train'),
        dict(id='d3_u1', dialogue='d3', speaker='A', label='anger', split='dev'),
        dict(id='d3_u2', dialogue='d3', speaker='B', label='neutral', split='dev'),
        dict(id='d4_u1', dialogue='d4', speaker='C', label='sad', split='test'),
        dict(id='d4_u2', dialogue='d4', speaker='C', label='joy', split='test'),
    ]
    with open(os.path.join(root, 'labels.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['id', 'dialogue', 'speaker', 'label', 'split'])
        w.writeheader()
        w.writerows(rows)
    feats = write_features(root, rows, {'a': 4, 't': 3}, {('d1_u2', 'a'): 3})
    classes = sorted({r['label'] for r in rows})
    expected = {
        'classNames': classes,
        'dims': {'a': 4, 't': 3},
        'dialogues': [[d, [r['id'] for r in rows if r['dialogue'] == d]] for d in ['d1', 'd2', 'd3', 'd4']],
        'splits': {'d1': 'train', 'd2': 'train', 'd3': 'valid', 'd4': 'test'},
        'utterances': {r['id']: dict(feats[r['id']], label=classes.index(r['label']), speaker=r['speaker']) for r in rows},
    }
    with open(os.path.join(root, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')


def write_regression():
    root = os.path.join(ROOT, 'regression')
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rows = []
    for g, dialogues in [('S2', ['s2a', 's2b']), ('S10', ['s10a']), ('S1', ['s1a', 's1b'])]:
        for d in dialogues:
            for k in range(2):
                rows.append(dict(id='%s_%d' % (d, k), dialogue=d, speaker='', label=round(float(rng.uniform(-3, 3)), 3), group=g))
    rows[0]['label'] = 2  # an integer label is a number too
    with open(os.path.join(root, 'labels.jsonl'), 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')
    feats = write_features(root, rows, {'a': 2, 't': 3, 'v': 2}, {('s1a_1', 'v'): 4})
    expected = {
        'dims': {'a': 2, 't': 3, 'v': 2},
        'folds': [['S1', ['s1a', 's1b']], ['S2', ['s2a', 's2b']], ['S10', ['s10a']]],
        'utterances': {r['id']: dict(feats[r['id']], label=r['label']) for r in rows},
    }
    with open(os.path.join(root, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    write_named()
    write_regression()
