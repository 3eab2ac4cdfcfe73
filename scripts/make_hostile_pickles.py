#!/usr/bin/env python3
"""Writes hostile pickles under fixtures/hostile/: each one runs code when Python's pickle loads it.

Every payload creates the marker file `hardy_pwned_marker` in the current directory (a relative
placeholder path, so a test can run a loader in a fresh temp dir and check the file never appears).
  - real `__reduce__` payloads through Python's own pickler, under every protocol 0-5:
    os.system, posix.system, nt.system, subprocess.Popen, builtins.eval, builtins.exec,
    builtins.getattr (getattr(os, 'system')(...)), importlib.import_module (import_module('os') ...)
  - opcode variants, hand-assembled where Python's pickler never writes them: INST, OBJ,
    STACK_GLOBAL with memoized strings, memoized globals, NEWOBJ/NEWOBJ_EX, BUILD on a non-array,
    EXT1/EXT2/EXT4, persistent ids, look-alike and dotted names of the allowed globals.
manifest.json lists, per file: the protocol, what the reader must name when refusing it, and
whether Python itself executes it on this platform (the test uses that as a positive control).
It also writes fixtures/hostile/numerics/: MMSA pickles with NaN/+inf/-inf features and bad
lengths (needs NumPy), with expected.json holding what the loader must produce for the loadable ones.
Run: python3 scripts/make_hostile_pickles.py   (Python 3.8+; NumPy for the numerics part)
"""
import builtins
import importlib
import json
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import types

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'hostile')
MARKER = 'hardy_pwned_marker'
SHELL = 'touch ' + MARKER
PYCODE = "open('%s', 'w').close()" % MARKER
manifest = []


def write(name, data, protocol, expect, runs_in_python=True):
    with open(os.path.join(ROOT, name), 'wb') as f:
        f.write(data)
    manifest.append({'file': name, 'protocol': protocol, 'expect': expect, 'runsInPython': runs_in_python})


class Reduce:
    """An object that pickles as func(*args); callable so it can itself stand in the func position."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)

    def __call__(self, *a):
        raise RuntimeError('placeholder')


# os.system is posix.system on Linux and nt.system on Windows; Python pickles it under the module
# it was defined in. Re-label copies so each spelling can be written from this platform.
STAND_INS = {}


def relabelled(func, module):
    real = sys.modules.get(module)
    if real is not None and getattr(real, func.__name__, None) is func:
        func.__module__ = module  # os.system is the same object as posix.system: rename it for this dump
        return func
    if module not in STAND_INS:  # nt on Linux: a stand-in module so the pickler's lookup succeeds
        stand_in = lambda cmd: None  # noqa: E731  (never called: only its name is pickled)
        stand_in.__module__, stand_in.__qualname__, stand_in.__name__ = module, func.__name__, func.__name__
        fake = types.ModuleType(module)
        setattr(fake, func.__name__, stand_in)
        sys.modules[module] = fake
        STAND_INS[module] = stand_in
    return STAND_INS[module]


def payloads():
    popen = Reduce(subprocess.Popen, (['touch', MARKER],))
    getattr_call = Reduce(Reduce(getattr, (Reduce(__import__, ('os',)), 'system')), (SHELL,))
    return [
        ('os_system', lambda: Reduce(relabelled(os.system, 'os'), (SHELL,)), 'os.system', True),
        ('posix_system', lambda: Reduce(relabelled(os.system, 'posix'), (SHELL,)), 'posix.system', os.name == 'posix'),
        ('nt_system', lambda: Reduce(relabelled(os.system, 'nt'), (SHELL,)), 'nt.system', os.name == 'nt'),
        ('subprocess_popen', lambda: popen, 'subprocess.Popen', True),
        ('builtins_eval', lambda: Reduce(eval, (PYCODE,)), 'builtins.eval', True),
        ('builtins_exec', lambda: Reduce(exec, (PYCODE,)), 'builtins.exec', True),
        ('builtins_getattr', lambda: getattr_call, 'builtins.getattr', True),
    ]


def first_global(data):
    """The first global a pickle names, as the reader will meet it (protocols < 3 write builtins as __builtin__)."""
    strings = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ('GLOBAL', 'INST'):
            return arg.replace(' ', '.')
        if op.name == 'STACK_GLOBAL':
            return '%s.%s' % (strings[-2], strings[-1])
        if isinstance(arg, str) and 'UNICODE' in op.name:
            strings.append(arg)
    raise ValueError('no global')


def write_reduce_payloads():
    for name, make, global_name, runs in payloads():
        # protocols 0-2 write Python 2 names by default (__builtin__.eval, commands.Popen); fix_imports=False keeps the Python 3 ones
        written = set()
        for protocol, fix in [(p, True) for p in range(6)] + [(p, False) for p in range(3)]:
            data = pickle.dumps([1, make()], protocol=protocol, fix_imports=fix)
            os.system.__module__ = 'posix' if os.name == 'posix' else 'nt'
            if data in written:
                continue
            written.add(data)
            named = first_global(data)
            assert named.split('.')[-1] == global_name.split('.')[-1], (named, global_name)
            write('%s_p%d%s.pkl' % (name, protocol, '' if fix else '_py3names'), data, protocol, "'%s'" % named, runs)


# ------------------------------------------------------------------ a small assembler
def glob(module, name, protocol):
    if protocol >= 4:
        return sstr(module, protocol) + sstr(name, protocol) + b'\x93'
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def sstr(s, protocol):
    b = s.encode('utf-8')
    if protocol == 0:
        return b'V' + s.encode('raw_unicode_escape') + b'\n'
    if protocol >= 4 and len(b) < 256:
        return b'\x8c' + bytes([len(b)]) + b
    return b'X' + struct.pack('<I', len(b)) + b


def tup(items, protocol):
    if protocol >= 2 and 1 <= len(items) <= 3:
        return b''.join(items) + bytes([0x84 + len(items)])
    return b'(' + b''.join(items) + b't'


def put(i, protocol):
    return b'p%d\n' % i if protocol == 0 else b'q' + bytes([i])


def get(i, protocol):
    return b'g%d\n' % i if protocol == 0 else b'h' + bytes([i])


def frame(body, protocol):
    head = b'\x80' + bytes([protocol]) if protocol >= 2 else b''
    if protocol >= 4:
        head += b'\x95' + struct.pack('<Q', len(body))
    return head + body


def write_import_module():
    """import_module('os') first, kept in the memo; then getattr(memo, 'system')(cmd)."""
    for p in range(6):
        body = (glob('importlib', 'import_module', p) + tup([sstr('os', p)], p) + b'R' + put(0, p) + b'0'
                + glob('builtins', 'getattr', p) + tup([get(0, p), sstr('system', p)], p) + b'R'
                + tup([sstr(SHELL, p)], p) + b'R.')
        write('importlib_import_module_p%d.pkl' % p, frame(body, p), p, "'importlib.import_module'")


def write_opcode_variants():
    shell0 = b"S'" + SHELL.encode() + b"'\n"
    v = [
        # INST and OBJ call the class with the marked arguments
        ('inst_os_system.pkl', 0, b'(' + shell0 + b'ios\nsystem\n.', "'os.system'", True),
        ('obj_os_system.pkl', 1, b'(cos\nsystem\n' + shell0 + b'o.', "'os.system'", True),
        ('inst_allowed_set.pkl', 0, b'(ibuiltins\nset\n.', '(INST)', False),
        ('obj_allowed_set.pkl', 1, b'(cbuiltins\nset\no.', '(OBJ)', False),
        # STACK_GLOBAL from memoized strings, and a global fetched back from the memo
        ('stack_global_memo_strings.pkl', 4, frame(sstr('os', 4) + b'\x94' + sstr('system', 4) + b'\x94' + b'00'
                                                   + b'h\x00h\x01\x93' + tup([sstr(SHELL, 4)], 4) + b'R.', 4), "'os.system'", True),
        ('memoized_global_p2.pkl', 2, frame(b'cposix\nsystem\nq\x000' + b'h\x00' + tup([sstr(SHELL, 2)], 2) + b'R.', 2), "'posix.system'", os.name == 'posix'),
        ('memoized_global_p0.pkl', 0, b'cbuiltins\neval\np7\n0g7\n(' + sstr(PYCODE, 0) + b'tR.', "'builtins.eval'", True),
        # NEWOBJ / NEWOBJ_EX: cls.__new__(cls, *args); refused even for an allowed global
        ('newobj_popen.pkl', 2, frame(b'csubprocess\nPopen\n' + tup([sstr('x', 2)], 2) + b'\x81.', 2), "'subprocess.Popen'", False),
        ('newobj_allowed_set.pkl', 2, frame(b'cbuiltins\nset\n)\x81.', 2), '(NEWOBJ)', False),
        ('newobj_ex_allowed_set.pkl', 4, frame(glob('builtins', 'set', 4) + b')}\x92.', 4), '(NEWOBJ)', False),
        # BUILD sets state through __setstate__ or __dict__: only NumPy arrays and dtypes may take it
        ('build_on_set.pkl', 2, frame(b'cbuiltins\nset\n)R}b.', 2), 'BUILD on a set', False),
        ('build_popen_state.pkl', 2, frame(b'csubprocess\nPopen\n)\x81}b.', 2), "'subprocess.Popen'", False),
        # the extension registry maps small integers to globals registered at run time
        ('ext1.pkl', 2, frame(b'\x82\x01)R.', 2), 'extension registry (EXT)', False),
        ('ext2.pkl', 2, frame(b'\x83\x01\x01)R.', 2), 'extension registry (EXT)', False),
        ('ext4.pkl', 2, frame(b'\x84\x01\x01\x01\x01)R.', 2), 'extension registry (EXT)', False),
        # persistent ids hand an arbitrary value to application code
        ('persid.pkl', 0, b'Pos.system\n.', 'persistent ids', False),
        ('binpersid.pkl', 2, frame(sstr('os.system', 2) + b'Q.', 2), 'persistent ids', False),
        # REDUCE on something that is not a global at all
        ('reduce_on_string.pkl', 2, frame(sstr('os.system', 2) + tup([sstr(SHELL, 2)], 2) + b'R.', 2), 'REDUCE on string', False),
        # look-alikes of allowed names: the py2 module name, dotted attribute paths, a NumPy exec gadget
        ('py2_builtin_eval.pkl', 0, b'c__builtin__\neval\n(' + sstr(PYCODE, 0) + b'tR.', "'__builtin__.eval'", False),
        ('dotted_attr_path.pkl', 4, frame(glob('builtins', 'set.__init__.__globals__', 4) + b'.', 4), "'builtins.set.__init__.__globals__'", False),
        ('dotted_module_path.pkl', 4, frame(glob('numpy.core.multiarray._reconstruct.__globals__', 'get', 4) + b'.', 4),
         "'numpy.core.multiarray._reconstruct.__globals__.get'", False),
        ('numpy_runstring.pkl', 2, frame(b'cnumpy.testing._private.utils\nrunstring\n' + tup([sstr(PYCODE, 2), b'}'], 2) + b'R.', 2),
         "'numpy.testing._private.utils.runstring'", False),
        ('numpy_load.pkl', 2, frame(b'cnumpy\nload\n' + tup([sstr('evil.npy', 2)], 2) + b'R.', 2), "'numpy.load'", False),
        ('whitespace_name.pkl', 0, b'cos \nsystem\n(' + shell0 + b'tR.', "'os .system'", False),
    ]
    for name, p, data, expect, runs in v:
        write(name, data, p, expect, runs)


# ------------------------------------------------------------------ MMSA numerics
def write_mmsa_numerics():
    """One-split MMSA pickles [N=3, T=4, d=2], each with one numeric defect; -inf marks a missing frame."""
    import numpy as np
    out = os.path.join(ROOT, 'numerics')
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(11)
    expected = {}

    def base():
        return {'id': ['vid$_$0', 'vid$_$1', 'vid$_$2'],
                'text': rng.standard_normal((3, 4, 2)).astype(np.float32),
                'audio': rng.standard_normal((3, 4, 2)).astype(np.float32),
                'vision': rng.standard_normal((3, 4, 2)).astype(np.float32),
                'audio_lengths': np.array([4, 3, 4]), 'vision_lengths': np.array([4, 4, 2]),
                'regression_labels': np.array([0.5, -1.0, 2.0], dtype=np.float32)}

    def pool(arr, n):
        frames = arr[:n]
        ok = ~np.any(np.isneginf(frames), axis=1)
        return frames[ok].mean(axis=0, dtype=np.float64).astype(np.float32).tolist() if ok.any() else [0.0] * arr.shape[1]

    def dump(name, part, loads):
        with open(os.path.join(out, name), 'wb') as f:
            pickle.dump({'train': part}, f, protocol=4)
        if loads:
            lens = {'a': part['audio_lengths'], 't': [4, 4, 4], 'v': part['vision_lengths']}
            keys = {'a': 'audio', 't': 'text', 'v': 'vision'}
            expected[name] = {uid: {m: pool(part[keys[m]][i], int(lens[m][i])) for m in 'atv'} for i, uid in enumerate(part['id'])}

    p = base(); p['audio'][1, 2, 0] = np.nan; dump('nan_audio.pkl', p, False)            # within audio_lengths[1] = 3
    p = base(); p['vision'][0, 1, 1] = np.inf; dump('posinf_vision.pkl', p, False)
    p = base(); p['text'][2, 3, 1] = np.nan; dump('nan_text.pkl', p, False)
    p = base(); p['audio'][1, 3, :] = np.nan; dump('nan_audio_padding.pkl', p, True)    # beyond audio_lengths[1]: padding, ignored
    p = base(); p['audio'][0, :, :] = -np.inf; dump('all_neginf_audio.pkl', p, True)     # every frame missing: zero vector
    p = base(); p['vision'][2, 0, 0] = -np.inf; p['audio'][0, 1, 1] = -np.inf; dump('neginf_frames.pkl', p, True)
    p = base(); p['audio_lengths'] = np.array([4.0, np.nan, 4.0]); dump('nan_length.pkl', p, False)
    p = base(); p['vision_lengths'] = np.array([4, -1, 2]); dump('negative_length.pkl', p, False)
    p = base(); p['regression_labels'][1] = np.nan; dump('nan_label.pkl', p, False)
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    os.makedirs(ROOT, exist_ok=True)
    for f in os.listdir(ROOT):
        if f.endswith('.pkl'):
            os.remove(os.path.join(ROOT, f))
    write_reduce_payloads()
    write_import_module()
    write_opcode_variants()
    with open(os.path.join(ROOT, 'manifest.json'), 'w') as f:
        json.dump({'marker': MARKER, 'files': manifest}, f, indent=1)
        f.write('\n')
    try:
        write_mmsa_numerics()
    except ImportError:
        print('NumPy not found: numerics/ not rewritten', file=sys.stderr)
    print('wrote %d hostile pickles to %s' % (len(manifest), os.path.normpath(ROOT)), file=sys.stderr)
