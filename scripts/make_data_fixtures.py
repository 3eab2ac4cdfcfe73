#!/usr/bin/env python3
"""Writes the data-layer test fixtures under fixtures/data/ in the real formats.

Run it with both interpreters so the pickles carry both NumPy spellings:
  /usr/bin/python3 scripts/make_data_fixtures.py   # Debian NumPy 1.x -> numpy.core.*  (*_np1*)
  python3 scripts/make_data_fixtures.py            # pyenv NumPy 2.x  -> numpy._core.* (*_np2*)
Each run writes only its own files, plus an expected.json next to them holding what the TS loaders
must produce (counts, labels, pooled vectors), computed here with NumPy.
"""
import json
import os
import pickle
import shutil
import sys

# set iteration order (and so the pickled bytes) depends on string hashing: pin it
if os.environ.get('PYTHONHASHSEED') != '0':
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED='0'))

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'data')
NP = 'np%d' % int(np.__version__.split('.')[0])
rng = np.random.default_rng(7 if NP == 'np1' else 8)


def out(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def dump(path, obj, protocol):
    with open(out(path), 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)


def dump_json(path, obj):
    with open(out(path), 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')


def as_list(a):
    return np.asarray(a, dtype=np.float64).tolist()


# ---------------------------------------------------------------- generic pickles
def basic_object():
    """Everything a data pickle may hold; expected JSON describes it in JS terms."""
    f_order = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
    obj = {
        'int_small': 7, 'int_neg': -300, 'int_big': 2 ** 70 + 5, 'int_negbig': -(2 ** 65), 'float': 1.25,
        'true': True, 'none': None, 'str': 'héllo', 'bytes': b'\x00\xffab',
        'list': [1, 'two', 3.0], 'tuple': (1, (2, 3)), 'set': {'b', 'a'}, 'frozenset': frozenset([1, 2]),
        'nested': {'k': [{'x': 1}]}, 3: 'int key',
        'arr_f32': np.array([[1.5, -2.0], [3.25, 4.0]], dtype=np.float32),
        'arr_f64_fortran': np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        'arr_f32_fortran': f_order,
        'arr_i64': np.array([1, -2, 3], dtype=np.int64),
        'arr_str': np.array(['ab', 'c']),
        'arr_obj': np.array(['x', 5], dtype=object),
        'arr_empty': np.zeros((0, 4), dtype=np.float32),
        'scalar_f64': np.float64(-0.5), 'scalar_i64': np.int64(42), 'scalar_str': np.str_('sent'), 'scalar_bool': np.bool_(True),
    }
    expected = {
        'int_small': 7, 'int_neg': -300, 'int_big': str(2 ** 70 + 5), 'int_negbig': str(-(2 ** 65)), 'float': 1.25,
        'true': True, 'none': None, 'str': 'héllo', 'bytes': [0, 255, 97, 98],
        'list': [1, 'two', 3.0], 'tuple': [1, [2, 3]], 'set': ['a', 'b'], 'frozenset': [1, 2],
        'arr_f32': {'shape': [2, 2], 'data': [1.5, -2.0, 3.25, 4.0], 'dtype': 'float32'},
        'arr_f64_fortran': {'shape': [2, 3], 'data': [0, 1, 2, 3, 4, 5], 'dtype': 'float64'},
        'arr_f32_fortran': {'shape': [2, 3], 'data': as_list(f_order.ravel(order='C')), 'dtype': 'float32'},
        'arr_i64': {'shape': [3], 'data': [1, -2, 3], 'dtype': 'int64'},
        'arr_str': {'shape': [2], 'data': ['ab', 'c'], 'dtype': 'str'},
        'arr_obj': {'shape': [2], 'data': ['x', 5], 'dtype': 'object'},
        'arr_empty': {'shape': [0, 4], 'data': [], 'dtype': 'float32'},
        'scalar_f64': -0.5, 'scalar_i64': 42, 'scalar_str': 'sent', 'scalar_bool': True,
    }
    return obj, expected


def write_pickles():
    obj, expected = basic_object()
    protocols = [0, 2, 4] if NP == 'np1' else [2, 3, 4, 5]
    for p in protocols:
        dump('pickles/basic_p%d_%s.pkl' % (p, NP), obj, p)
    dump_json('pickles/basic_expected.json', expected)
    if NP == 'np2':
        # Python 2 str opcodes (SHORT_BINSTRING, BINSTRING, STRING), hand-assembled: Python 3 cannot write them
        raw = (b'\x80\x02]q\x00(U\x04caf\xe9q\x01T\x03\x00\x00\x00abcS\'x\\ny\'\np2\nI01\nL12345678901234567890L\ne.')
        with open(out('pickles/py2_strings.pkl'), 'wb') as f:
            f.write(raw)


# ---------------------------------------------------------------- .npy
def write_npy():
    cases = {
        'f32_1d': np.array([0.5, -1.0, 2.0], dtype='<f4'),
        'f64_2d_fortran': np.asfortranarray(np.arange(12, dtype='<f8').reshape(3, 4) / 8),
        'f32_big_endian': np.array([[1.0, 2.5], [-3.0, 4.0]], dtype='>f4'),
        'i64_2d': np.array([[1, -2], [3, 2 ** 40]], dtype='<i8'),
        'u8_1d': np.array([0, 255, 7], dtype='u1'),
        'i16_be': np.array([-2, 300], dtype='>i2'),
        'f16_1d': np.array([0.5, -2.0], dtype='<f2'),
        'bool_1d': np.array([True, False, True]),
        'f32_3d': np.arange(24, dtype='<f4').reshape(2, 3, 4),
        'f32_3d_fortran': np.asfortranarray(np.arange(24, dtype='<f4').reshape(2, 3, 4)),
    }
    expected = {}
    for name, a in cases.items():
        np.save(out('npy', name + '.npy'), a)
        expected[name] = {'shape': list(a.shape), 'data': as_list(a.ravel(order='C'))}
    # header versions 2.0 and 3.0
    for version in [(2, 0), (3, 0)]:
        a = np.arange(5, dtype='<f4')
        with open(out('npy', 'f32_v%d.npy' % version[0]), 'wb') as f:
            np.lib.format.write_array(f, a, version=version)
        expected['f32_v%d' % version[0]] = {'shape': [5], 'data': as_list(a)}
    dump_json('npy/expected.json', expected)


# ---------------------------------------------------------------- GCNet layouts
def feat_dirs(root):
    return [os.path.join(root, 'features', d) for d in ('wav2vec-large-c-UTT', 'deberta-large-4-UTT', 'manet_UTT')]


def write_gcnet_iemocap():
    """IEMOCAP-4 label pickle (protocol 2, like the GCNet release) and mixed feature entries."""
    root = out('gcnet_iemocap', 'x')[:-2]
    shutil.rmtree(root, ignore_errors=True)
    da, dt, dv = feat_dirs(root)
    for d in (da, dt, dv):
        os.makedirs(d)
    dialogues = {
        'Ses01F_impro01': [('F', 0), ('M', 2), ('F', 1)],
        'Ses01M_script01_1': [('M', 3), ('F', 3)],
        'Ses02F_impro02': [('F', 2), ('M', 0)],
    }
    videoIDs, videoLabels, videoSpeakers, videoSentence = {}, {}, {}, {}
    expected = {'utterances': {}, 'dims': {'a': 4, 't': 5, 'v': 6}}
    for vid, utts in dialogues.items():
        counts = {'F': 0, 'M': 0}
        uids = []
        for k, (spk, label) in enumerate(utts):
            uid = '%s_%s%03d' % (vid, spk, counts[spk])
            counts[spk] += 1
            uids.append(uid)
            e = {'label': label, 'speaker': spk, 'dialogue': vid}
            # audio: 1-D, except one frame-level [T, d] array (mean-pooled)
            if k == 1:
                a = rng.standard_normal((3, 4)).astype(np.float32)
                e['a'] = as_list(a.mean(axis=0, dtype=np.float64).astype(np.float32))
            else:
                a = rng.standard_normal(4).astype(np.float32)
                e['a'] = as_list(a)
            np.save(os.path.join(da, uid + '.npy'), a)
            # text: float64, one Fortran-order [T, d]
            if k == 2:
                t = np.asfortranarray(rng.standard_normal((2, 5)))
                e['t'] = as_list(t.mean(axis=0).astype(np.float32))
            else:
                t = rng.standard_normal(5)
                e['t'] = as_list(t.astype(np.float32))
            np.save(os.path.join(dt, uid + '.npy'), t)
            # video: a folder of face tracks, compress_F / compress_M; own speaker's face is used
            os.makedirs(os.path.join(dv, uid))
            if vid == 'Ses02F_impro02' and k == 1:
                e['v'] = [0.0] * 6  # no face file -> zero vector (.gitkeep: git drops empty folders)
                open(os.path.join(dv, uid, '.gitkeep'), 'w').close()
            else:
                own = rng.standard_normal((2, 6)).astype(np.float32) if k == 0 else rng.standard_normal(6).astype(np.float32)
                other = rng.standard_normal(6).astype(np.float32) + 100
                np.save(os.path.join(dv, uid, 'compress_%s.npy' % spk), own)
                np.save(os.path.join(dv, uid, 'compress_%s.npy' % ('M' if spk == 'F' else 'F')), other)
                e['v'] = as_list(own.mean(axis=0) if own.ndim == 2 else own)
            expected['utterances'][uid] = e
        videoIDs[vid] = uids
        videoLabels[vid] = [l for _, l in utts]
        videoSpeakers[vid] = [s for s, _ in utts]
        videoSentence[vid] = ['sentence %d' % i for i in range(len(utts))]
    trainVid = {'Ses01F_impro01', 'Ses01M_script01_1'}
    testVid = {'Ses02F_impro02'}
    with open(os.path.join(root, 'IEMOCAP_features_raw_4way.pkl'), 'wb') as f:
        pickle.dump([videoIDs, videoLabels, videoSpeakers, videoSentence, trainVid, testVid], f, protocol=2)
    expected['dialogues'] = list(dialogues)
    expected['sessions'] = {'Ses01F_impro01': 1, 'Ses01M_script01_1': 1, 'Ses02F_impro02': 2}
    dump_json('gcnet_iemocap/expected.json', expected)
    # bad inputs derived from this tree (tests copy the tree and swap one file in)
    bad_labels = dict(videoLabels)
    bad_labels['Ses01M_script01_1'] = [3, 4]
    dump('bad/iemocap_label_out_of_range.pkl', [videoIDs, bad_labels, videoSpeakers, videoSentence, trainVid, testVid], 2)
    np.save(out('bad', 'nan_feature.npy'), np.array([1.0, np.nan, 0.0, 2.0], dtype=np.float32))
    np.save(out('bad', 'inf_feature.npy'), np.array([1.0, np.inf, 0.0, 2.0], dtype=np.float32))
    np.save(out('bad', 'dim5_feature.npy'), np.zeros(5, dtype=np.float32))


def write_gcnet_mosi():
    """CMU-MOSI label pickle (7 elements, NumPy float64 labels, numpy.str_ sentences), protocol 4."""
    root = out('gcnet_mosi', 'x')[:-2]
    shutil.rmtree(root, ignore_errors=True)
    da, dt, dv = feat_dirs(root)
    for d in (da, dt, dv):
        os.makedirs(d)
    videos = {'vidA1': 3, 'vidB2': 2, 'vidC3': 2}
    videoIDs, videoLabels, videoSpeakers, videoSentences = {}, {}, {}, {}
    expected = {'utterances': {}, 'dims': {'a': 3, 't': 4, 'v': 2}}
    for vid, n in videos.items():
        uids = ['%s_%d' % (vid, i + 1) for i in range(n)]
        labels = [np.float64(round(float(x), 3)) for x in rng.uniform(-3, 3, n)]
        videoIDs[vid] = uids
        videoLabels[vid] = labels
        videoSpeakers[vid] = ['' for _ in uids]
        videoSentences[vid] = np.array(['words of %s' % u for u in uids])
        for k, uid in enumerate(uids):
            a = rng.standard_normal(3).astype(np.float32)
            t = rng.standard_normal(4).astype(np.float32)
            np.save(os.path.join(da, uid + '.npy'), a)
            np.save(os.path.join(dt, uid + '.npy'), t)
            if k == 0:  # a face folder without speaker letters: every face is pooled
                os.makedirs(os.path.join(dv, uid))
                f1 = rng.standard_normal(2).astype(np.float32)
                f2 = rng.standard_normal(2).astype(np.float32)
                np.save(os.path.join(dv, uid, 'face_0.npy'), f1)
                np.save(os.path.join(dv, uid, 'face_1.npy'), f2)
                v = (f1.astype(np.float64) + f2) / 2
            else:
                v = rng.standard_normal(2).astype(np.float32)
                np.save(os.path.join(dv, uid + '.npy'), v)
            expected['utterances'][uid] = {'label': float(labels[k]), 'a': as_list(a), 't': as_list(t), 'v': as_list(np.float32(v)), 'dialogue': vid}
    splits = [{'vidA1'}, {'vidB2'}, {'vidC3'}]
    with open(os.path.join(root, 'CMUMOSI_features_raw_2way.pkl'), 'wb') as f:
        pickle.dump([videoIDs, videoLabels, videoSpeakers, videoSentences] + splits, f, protocol=4)
    expected['splits'] = {'vidA1': 'train', 'vidB2': 'valid', 'vidC3': 'test'}
    dump_json('gcnet_mosi/expected.json', expected)


# ---------------------------------------------------------------- MMSA
def write_mmsa(name, unaligned, protocol, folder=None, as_lists=False):
    """MMSA pickle: frame-level [N, T, d] arrays, -inf audio frames, lengths when unaligned.
    as_lists: lengths as Python lists of ints and labels as a list of floats, as MMSA's own
    data/getLengths.py and hand-written preprocessing store them."""
    folder = folder or 'mmsa_%s' % NP
    data, expected = {}, {}
    T = 4
    for split, vids in [('train', ['vA', 'vA', 'vB']), ('valid', ['vC']), ('test', ['vD', 'vD'])]:
        N = len(vids)
        ids = ['%s$_$%d' % (v, i) for i, v in enumerate(vids)]
        text = rng.standard_normal((N, T, 3)).astype(np.float32)
        audio = rng.standard_normal((N, T, 2)).astype(np.float32)
        vision = rng.standard_normal((N, T, 2)).astype(np.float32)
        audio[0, 1, :] = -np.inf  # a missing audio frame
        if N > 1:
            audio[1, 0, 0] = -np.inf
        alen = np.array([T - (i % 2) for i in range(N)])
        vlen = np.array([T - 1 for _ in range(N)])
        labels = rng.uniform(-3, 3, N).astype(np.float32)
        part = {'id': ids, 'raw_text': ['text %d' % i for i in range(N)], 'text': text, 'text_bert': np.zeros((N, 3, T)),
                'audio': audio, 'vision': vision, 'regression_labels': labels,
                'classification_labels': (labels > 0).astype(np.float32), 'annotations': ['Positive'] * N}
        if unaligned:
            part['audio_lengths'] = [int(x) for x in alen] if as_lists else alen
            part['vision_lengths'] = [int(x) for x in vlen] if as_lists else vlen
        if as_lists:
            part['regression_labels'] = [float(x) for x in labels]
        data[split] = part
        for i, uid in enumerate(ids):
            def pool(arr, length):
                frames = arr[i, :length]
                ok = np.all(np.isfinite(frames), axis=1)
                return as_list(frames[ok].mean(axis=0, dtype=np.float64).astype(np.float32)) if ok.any() else [0.0] * arr.shape[2]
            expected[uid] = {'split': split, 'video': vids[i], 'label': float(labels[i]),
                             't': pool(text, T), 'a': pool(audio, alen[i] if unaligned else T), 'v': pool(vision, vlen[i] if unaligned else T)}
    dump('%s/%s' % (folder, name), data, protocol)
    dump_json('%s/expected.json' % folder, expected)
    if as_lists:
        # the same pickle with a None among the lengths, and a list one entry short
        good = data['train']['audio_lengths']
        data['train']['audio_lengths'] = good[:1] + [None] + good[2:]
        dump('bad/mmsa_length_none.pkl', data, protocol)
        data['train']['audio_lengths'] = good[:-1]
        dump('bad/mmsa_lengths_short.pkl', data, protocol)


# ---------------------------------------------------------------- bad inputs
def write_bad():
    a = np.arange(8, dtype=np.float32)
    np.save(out('bad', 'good.npy'), a)
    raw = open(out('bad', 'good.npy'), 'rb').read()
    open(out('bad', 'truncated.npy'), 'wb').write(raw[:-5])
    open(out('bad', 'truncated_header.npy'), 'wb').write(raw[:30])
    open(out('bad', 'bad_header.npy'), 'wb').write(raw[:10] + b"{'descr': '<f4', 'fortran_order': False, 'shape': (8, }" + raw[10 + 56:])
    open(out('bad', 'not_npy.npy'), 'wb').write(b'hello world, not numpy')
    os.remove(out('bad', 'good.npy'))

    class Exploit:
        def __reduce__(self):
            return (os.system, ('echo pwned',))
    dump('bad/os_system.pkl', [1, Exploit()], 2)
    dump('bad/os_system_p4.pkl', {'x': Exploit()}, 4)
    import collections
    dump('bad/ordered_dict.pkl', collections.OrderedDict(a=1), 2)
    # the same call spelled as os.system (Python itself writes posix.system on Linux)
    open(out('bad', 'os_system_p0.pkl'), 'wb').write(b"cos\nsystem\n(S'echo pwned'\ntR.")
    # protocol-0 GLOBAL of builtins.eval with REDUCE
    open(out('bad', 'eval_p0.pkl'), 'wb').write(b"cbuiltins\neval\n(S'1+1'\ntR.")
    ok = pickle.dumps({'a': list(range(50))}, protocol=4)
    open(out('bad', 'truncated.pkl'), 'wb').write(ok[:len(ok) // 2])


if __name__ == '__main__':
    print('writing fixtures with NumPy', np.__version__, 'as', NP, file=sys.stderr)
    write_pickles()
    if NP == 'np1':
        write_gcnet_iemocap()
        write_mmsa('unaligned_50.pkl', True, 2)
    else:
        write_npy()
        write_gcnet_mosi()
        write_mmsa('aligned_50.pkl', False, 4)
        write_mmsa('unaligned_50.pkl', True, 4, folder='mmsa_lists', as_lists=True)
        write_bad()
