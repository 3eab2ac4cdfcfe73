#!/usr/bin/env python3
"""faiss reference for `npm run bench:knn`: exact top-k of the queries against the database that
bench/knn.ts wrote (float32 files), IndexFlatL2 and IndexFlatIP on L2-normalised copies (cosine),
2 threads. Timed: index.search only (the index is built before the clock), median over repeats after
one warm-up. Writes the neighbour rows (int32) next to the inputs and prints one JSON line.
"""
import argparse
import json
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('--n', type=int, required=True)
    ap.add_argument('--nq', type=int, required=True)
    ap.add_argument('--dim', type=int, required=True)
    ap.add_argument('--k', type=int, required=True)
    ap.add_argument('--repeats', type=int, required=True)
    args = ap.parse_args()
    try:
        import faiss
        import numpy as np
    except ImportError as e:
        print(json.dumps({'error': f'faiss/NumPy not importable: {e}'}))
        return
    faiss.omp_set_num_threads(2)
    db = np.fromfile(f'{args.dir}/db.f32', dtype='<f4').reshape(args.n, args.dim)
    q = np.fromfile(f'{args.dir}/queries.f32', dtype='<f4').reshape(args.nq, args.dim)
    out = {}
    for metric in ('l2', 'cosine'):
        if metric == 'l2':
            index, qs = faiss.IndexFlatL2(args.dim), q
            index.add(db)
        else:
            dbn, qs = db.copy(), q.copy()
            faiss.normalize_L2(dbn)
            faiss.normalize_L2(qs)
            index = faiss.IndexFlatIP(args.dim)
            index.add(dbn)
        index.search(qs, args.k)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            _, idx = index.search(qs, args.k)
            times.append((time.perf_counter() - t0) * 1000)
        idx.astype('<i4').tofile(f'{args.dir}/faiss-{metric}.i32')
        out[metric] = times
        print(f'faiss {metric}: ' + ' '.join(f'{t:.1f}' for t in times) + ' ms', file=sys.stderr)
    rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({'times_ms': out, 'rss_mb': rss, 'threads': faiss.omp_get_max_threads()}))


if __name__ == '__main__':
    main()
