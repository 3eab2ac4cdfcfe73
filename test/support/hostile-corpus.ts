// Builds small GCNet IEMOCAP corpora with one hostile field (label, uid, speaker or dialogue key),
// and the hostile pickle structures of issue 15: shared-reference DAGs, deep nesting, huge ints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePickle, PickleOps, type PickleValue } from '../../src/data/formats/pickle-writer.ts';
import { writeNpyF32 } from '../../src/data/formats/npy.ts';

const u32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

/** `L = [L, L]` (or a tuple) `depth` times over through the memo: 2^depth nodes when walked, ~12 bytes per level. */
export function sharedDag(depth: number, tuple = false): PickleOps {
  const b: number[] = [0x5d, 0x72, ...u32(0), 0x30]; // EMPTY_LIST, LONG_BINPUT 0, POP
  for (let i = 1; i <= depth; i++) b.push(0x28, 0x6a, ...u32(i - 1), 0x6a, ...u32(i - 1), tuple ? 0x74 : 0x6c, 0x72, ...u32(i), 0x30);
  b.push(0x6a, ...u32(depth)); // LONG_BINGET depth
  return new PickleOps(Uint8Array.from(b));
}

/** A list nested `depth` deep: [[[...]]] (EMPTY_LIST x depth, then APPEND x depth-1). */
export function deepList(depth: number): PickleOps {
  const b = new Uint8Array(2 * depth - 1);
  b.fill(0x5d, 0, depth);
  b.fill(0x61, depth);
  return new PickleOps(b);
}

/** A LONG4 integer of `bytes` bytes (all 0x7f: positive, about 8 x bytes bits). */
export function hugeInt(bytes: number): PickleOps {
  const b = new Uint8Array(5 + bytes);
  b[0] = 0x8b;
  b.set(u32(bytes), 1);
  b.fill(0x7f, 5);
  return new PickleOps(b);
}

export interface CorpusParts {
  vid?: PickleValue;
  uid?: PickleValue;
  speaker?: PickleValue;
  label?: PickleValue;
}

export const DIMS = { a: 4, t: 5, v: 3 };
export const FEATURE_DIRS = { a: 'wav2vec-large-c-UTT', t: 'deberta-large-4-UTT', v: 'manet_UTT' } as const;

/** The opcodes of one value (without PROTO and STOP), to compose structures the writer cannot. */
const opsOf = (v: PickleValue): number[] => [...encodePickle(v).subarray(2, -1)];

/** A dict with any keys (the writer's Map takes only strings and numbers). */
export function dict(entries: Array<[PickleValue, PickleValue]>): PickleOps {
  return new PickleOps(Uint8Array.from([0x7d, 0x28, ...entries.flatMap(([k, v]) => [...opsOf(k), ...opsOf(v)]), 0x75]));
}

/**
 * An IEMOCAP-4 corpus in `dir`: two dialogues of two utterances each (sessions 1 and 2); the first
 * utterance's fields (and its dialogue's key) may be replaced by `parts`. Feature files are written
 * for the plain string uids.
 */
export function writeCorpus(dir: string, parts: CorpusParts = {}): void {
  const dialogues = [
    { vid: 'Ses01F_impro01', uids: ['Ses01F_impro01_F000', 'Ses01F_impro01_M000'] },
    { vid: 'Ses02F_impro02', uids: ['Ses02F_impro02_F000', 'Ses02F_impro02_M000'] },
  ];
  const first = (i: number, j: number, hostile: PickleValue | undefined, plain: PickleValue): PickleValue => (i === 0 && j === 0 && hostile !== undefined ? hostile : plain);
  const perDialogue = (f: (uid: string, i: number, j: number) => PickleValue): PickleOps =>
    dict(dialogues.map((d, i) => [i === 0 && parts.vid !== undefined ? parts.vid : d.vid, d.uids.map((u, j) => f(u, i, j))]));
  const top: PickleValue = [
    perDialogue((u, i, j) => first(i, j, parts.uid, u)),
    perDialogue((_u, i, j) => first(i, j, parts.label, j % 4)),
    perDialogue((u, i, j) => first(i, j, parts.speaker, u.slice(-4, -3))),
    perDialogue(() => 'hello'),
    new Set([dialogues[1]!.vid]),
    new Set([dialogues[0]!.vid]),
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'IEMOCAP_features_raw_4way.pkl'), encodePickle(top));
  for (const [m, sub] of Object.entries(FEATURE_DIRS)) {
    mkdirSync(join(dir, 'features', sub), { recursive: true });
    dialogues.forEach((d, i) => d.uids.forEach((u, j) => {
      const dim = DIMS[m as keyof typeof DIMS];
      writeNpyF32(join(dir, 'features', sub, `${u}.npy`), Float32Array.from({ length: dim }, (_, k) => (i + j + k) / 10), [dim]);
    }));
  }
}
