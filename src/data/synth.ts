/**
 * A synthetic corpus with known difficulty, written in the real GCNet layout so the real loader
 * reads it (README, "Data preparation").
 *
 * Generative model (K-dim shared latent, C classes with orthonormal prototypes mu_c of norm R):
 *   dialogue: speakers alternate (switch prob 0.65); emotions follow a sticky Markov chain
 *             (keep prob 0.75, else a draw from the class prior), so context helps.
 *   utterance i with class y: ambiguity alpha in [0, 0.5], a second class y' != y, noise level
 *             s in [0.5, 2], shared content e ~ N(0, I_K):
 *             z = (1 - alpha) mu_y + alpha mu_y' + s * e                               // [K]
 *   modality m: x_m = c_m * (W_m (z + s * tau_m * n_m) + P_m u_m + 0.5 * w_m)         // [d_m]
 *             W_m [d_m, K] ~ N(0, 1/K): every modality sees the shared latent, so the others
 *             can reconstruct it (up to their own noise); n_m ~ N(0, I_K) is modality noise in
 *             the latent with tau: text 0.5 < audio 1.2 < video 2.4, so text is the most
 *             informative and video the least; P_m u_m a private nuisance subspace and w_m
 *             white noise (what no other modality can recover); c_m scales to unit-ish std.
 *   corruption: with prob 0.06 one modality (a 40%, v 40%, t 20%) shows an unrelated latent
 *             (a random class, fresh content) instead of z; half of the video corruptions are
 *             written as an empty face folder instead (the loader's zero vector).
 *   difficulty = 0.5 * alpha / 0.5 + 0.3 * (s - 0.5) / 1.5 + 0.2 * corrupted      in [0, 1]
 *             i.e. how close the utterance sits to another class's prototype, how noisy all its
 *             modalities are, and whether one modality is unrecoverable -- what the teacher's
 *             reconstruction-error and mutual-information hardness are meant to detect.
 * MOSI format: 7 sentiment levels -3..3 instead of classes; the label is the alpha-mix of the two
 * levels (y' a neighbouring level) plus N(0, 0.1), clipped to [-3, 3].
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, basename, resolve } from 'node:path';
import { Rng } from '../util/rng.ts';
import { HardyError } from '../util/errors.ts';
import { encodeNpyF32 } from './formats/npy.ts';
import { encodePickle, NpFloat64, type PickleValue } from './formats/pickle-writer.ts';
import { DATASETS, DEFAULT_FEATURE_DIRS } from './datasets.ts';
import { MODALITIES, type Modality } from './types.ts';
import { generateScripted, orthonormal, SCRIPTED, SCRIPTED_FORMULA } from './synth-scripted.ts';

export type SynthPreset = 'tiny' | 'small' | 'iemocap' | 'scripted';
export type SynthFormat = 'iemocap' | 'mosi';
export const SYNTH_PRESETS: readonly SynthPreset[] = ['tiny', 'small', 'iemocap', 'scripted'];

export interface SynthOptions {
  preset?: SynthPreset;
  seed?: number;
  format?: SynthFormat;
  /** `scripted` only: the probability that audio and video share their line's text recoverability (src/data/synth-scripted.ts). */
  coupling?: number;
}

interface PresetSpec {
  dims: Record<Modality, number>;
  latent: number;
  /** IEMOCAP format: [dialogues, utterances] per session 1..5. */
  sessions: Array<[number, number]>;
  /** MOSI format: [videos, utterances] for train, valid, test. */
  splits: Array<[number, number]>;
}

const PRESETS: Record<Exclude<SynthPreset, 'scripted'>, PresetSpec> = {
  tiny: { dims: { a: 12, t: 16, v: 16 }, latent: 8, sessions: [[2, 16], [2, 15], [2, 17], [2, 14], [2, 18]], splits: [[8, 48], [2, 12], [3, 18]] },
  small: { dims: { a: 64, t: 128, v: 128 }, latent: 16, sessions: [[6, 180], [6, 170], [6, 190], [6, 175], [6, 185]], splits: [[40, 600], [8, 110], [12, 190]] },
  // the real IEMOCAP-4 and CMU-MOSI sizes (README, "Data preparation")
  iemocap: {
    dims: { a: 512, t: 1024, v: 1024 },
    latent: 32,
    sessions: [[28, 1085], [30, 1023], [32, 1151], [30, 1031], [31, 1241]],
    splits: [[52, 1284], [10, 229], [31, 686]],
  },
};

const TAU: Record<Modality, number> = { a: 1.2, t: 0.5, v: 2.4 };
const PRIVATE_SCALE = 0.5;
const WHITE_NOISE = 0.5;
const CORRUPT_PROB = 0.06;
const IEMOCAP_PRIOR = [1636, 1084, 1708, 1103]; // class frequencies of IEMOCAP-4
const MOSI_PRIOR = [0.07, 0.14, 0.2, 0.16, 0.2, 0.15, 0.08]; // levels -3..3

export const DIFFICULTY_FORMULA = 'difficulty = 0.5 * alpha/0.5 + 0.3 * (s - 0.5)/1.5 + 0.2 * corrupted (alpha: ambiguity toward a second class prototype, s: per-utterance noise level, corrupted: one modality without signal)';

/** A generated utterance before it is written. */
export interface SynthUtterance {
  uid: string;
  speaker: string;
  label: number;
  difficulty: number;
  /** `scripted`: how hard each modality is to recover from the others (its private share). */
  modalityDifficulty?: Record<Modality, number>;
  /** Own features; `v` is null when the face folder is empty. */
  features: Record<Modality, Float32Array | null>;
  /** IEMOCAP: the other actor's face track in the same clip (uninformative). */
  otherFace?: Float32Array;
}

export interface SynthDialogue {
  vid: string;
  session?: number;
  split?: 'train' | 'valid' | 'test';
  utterances: SynthUtterance[];
}

function sampleCategorical(rng: Rng, p: readonly number[]): number {
  const total = p.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}

/**
 * Splits `total` into `n` dialogue lengths with IEMOCAP's right-skewed spread (log-normal
 * weights), at least half the mean (up to 8) and at most 110 (IEMOCAP's longest dialogue).
 */
function splitLengths(rng: Rng, n: number, total: number): number[] {
  const lo = Math.max(2, Math.min(8, Math.floor(total / n / 2)));
  const hi = 110;
  const w = Array.from({ length: n }, () => Math.exp(0.45 * rng.normal()));
  const sum = w.reduce((a, b) => a + b, 0);
  const len = w.map((x) => Math.max(lo, Math.min(hi, Math.floor((total * x) / sum))));
  let diff = total - len.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % n) {
    const step = Math.sign(diff);
    if ((step > 0 && len[i]! < hi) || (step < 0 && len[i]! > lo)) { len[i]! += step; diff -= step; }
  }
  return len;
}

function gaussianMatrix(rng: Rng, rows: number, cols: number, scale: number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rng.normal() * scale;
  return m;
}

/** The fixed part of the generator: prototypes and per-modality projections. */
class SynthWorld {
  readonly K: number;
  readonly protos: Float64Array[];
  readonly W: Record<Modality, Float32Array>; // [d_m, K]
  readonly P: Record<Modality, Float32Array>; // [d_m, Kp]
  readonly Kp: number;
  readonly scale: Record<Modality, number>;

  constructor(rng: Rng, readonly dims: Record<Modality, number>, K: number, numClasses: number, mosi: boolean) {
    this.K = K;
    this.Kp = Math.max(2, K >> 1);
    // orthonormal class directions at radius 2.83: neighbouring prototypes 4 apart (2 content-noise std each side)
    const basis = orthonormal(rng, Math.min(K, numClasses + 1), K);
    const R = 2 * Math.SQRT2;
    this.protos = Array.from({ length: numClasses }, (_, c) => {
      const p = new Float64Array(K);
      if (mosi) {
        // sentiment levels on a line plus a small level-specific offset: regression is mostly linear
        const level = c - 3;
        for (let k = 0; k < K; k++) p[k] = 1.2 * level * basis[0]![k]! + 0.8 * basis[1 + (c % (basis.length - 1))]![k]!;
      } else for (let k = 0; k < K; k++) p[k] = R * basis[c]![k]!;
      return p;
    });
    this.W = {} as Record<Modality, Float32Array>;
    this.P = {} as Record<Modality, Float32Array>;
    this.scale = {} as Record<Modality, number>;
    for (const m of MODALITIES) {
      this.W[m] = gaussianMatrix(rng, dims[m], K, 1 / Math.sqrt(K));
      this.P[m] = gaussianMatrix(rng, dims[m], this.Kp, 1 / Math.sqrt(this.Kp));
      // per-dim variance ~ |mu|^2/K + 1 (content) + tau^2 (latent noise) + private + white
      const variance = (R * R) / K + 1 + TAU[m] ** 2 + PRIVATE_SCALE ** 2 + WHITE_NOISE ** 2;
      this.scale[m] = 1 / Math.sqrt(variance);
    }
  }

  /**
   * x_m for latent z. Modality noise lives in the latent (so it limits how well x_m predicts the
   * class and the other modalities) plus a small white noise per dimension. A corrupted modality
   * (`signal` false) renders an unrelated latent of the same scale instead of z.
   */
  render(rng: Rng, m: Modality, z: Float64Array, s: number, signal: boolean): Float32Array {
    const d = this.dims[m];
    const K = this.K;
    const W = this.W[m];
    const P = this.P[m];
    const src = signal ? z : this.randomLatent(rng, s);
    const h = Float64Array.from(src, (x) => x + s * TAU[m] * rng.normal()); // [K]
    const u = Float64Array.from({ length: this.Kp }, () => rng.normal() * PRIVATE_SCALE); // [Kp]
    const x = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let v = WHITE_NOISE * rng.normal();
      for (let k = 0; k < K; k++) v += W[i * K + k]! * h[k]!;
      for (let k = 0; k < this.Kp; k++) v += P[i * this.Kp + k]! * u[k]!;
      x[i] = v * this.scale[m];
    }
    return x;
  }

  /** A latent drawn from the marginal (a random class, fresh content): what a corrupted track shows. */
  randomLatent(rng: Rng, s: number): Float64Array {
    const mu = this.protos[rng.int(this.protos.length)]!;
    return Float64Array.from(mu, (x) => x + s * rng.normal());
  }
}

/** Generates the corpus in memory (deterministic in `seed`). */
export function generateSynth(options: SynthOptions = {}): { dialogues: SynthDialogue[]; dims: Record<Modality, number>; format: SynthFormat } {
  const preset = options.preset ?? 'tiny';
  const format = options.format ?? 'iemocap';
  const coupling = options.coupling ?? 0;
  if (!(coupling >= 0 && coupling <= 1)) throw new HardyError(`synthetic coupling must be a number in [0, 1], got ${coupling}`);
  if (coupling > 0 && preset !== 'scripted') throw new HardyError(`synthetic coupling is a parameter of the 'scripted' preset, not of '${preset}'`);
  if (preset === 'scripted') {
    if (format !== 'iemocap') throw new HardyError(`synthetic preset 'scripted' has the IEMOCAP layout only (sessions, scripts), not '${format}'`);
    return { dialogues: generateScripted(options.seed ?? 0, coupling), dims: SCRIPTED.dims, format };
  }
  const spec = PRESETS[preset];
  if (!spec) throw new HardyError(`unknown synthetic preset '${String(preset)}' (expected ${SYNTH_PRESETS.join(', ')})`);
  const root = new Rng(options.seed ?? 0);
  const mosi = format === 'mosi';
  const prior = mosi ? MOSI_PRIOR : IEMOCAP_PRIOR;
  const C = prior.length;
  const world = new SynthWorld(root.fork(), spec.dims, spec.latent, C, mosi);
  const rng = root.fork();

  const makeDialogue = (vid: string, length: number, uidOf: (speaker: string, n: number) => string, speakers: boolean): SynthUtterance[] => {
    const out: SynthUtterance[] = [];
    const counts: Record<string, number> = { F: 0, M: 0, '': 0 };
    let speaker = speakers ? (vid[5] === 'M' ? 'M' : 'F') : '';
    let y = sampleCategorical(rng, prior);
    for (let i = 0; i < length; i++) {
      if (i > 0 && speakers && rng.next() < 0.65) speaker = speaker === 'F' ? 'M' : 'F';
      if (i > 0 && rng.next() >= 0.75) y = sampleCategorical(rng, prior);
      const alpha = 0.5 * rng.next() ** 2;
      let y2: number;
      if (mosi) y2 = y === 0 ? 1 : y === C - 1 ? C - 2 : y + (rng.next() < 0.5 ? -1 : 1);
      else { y2 = rng.int(C - 1); if (y2 >= y) y2++; }
      const s = Math.min(2, Math.max(0.5, Math.exp(0.35 * rng.normal())));
      const z = new Float64Array(world.K);
      for (let k = 0; k < world.K; k++) z[k] = (1 - alpha) * world.protos[y]![k]! + alpha * world.protos[y2]![k]! + s * rng.normal();
      let corrupt: Modality | null = null;
      if (rng.next() < CORRUPT_PROB) corrupt = (['a', 'a', 'v', 'v', 't'] as const)[rng.int(5)]!;
      const emptyFace = corrupt === 'v' && rng.next() < 0.5;
      const features = {} as Record<Modality, Float32Array | null>;
      for (const m of MODALITIES) features[m] = world.render(rng, m, z, s, corrupt !== m);
      if (emptyFace) features.v = null;
      const difficulty = 0.5 * (alpha / 0.5) + 0.3 * ((s - 0.5) / 1.5) + 0.2 * (corrupt ? 1 : 0);
      const label = mosi ? Math.min(3, Math.max(-3, (1 - alpha) * (y - 3) + alpha * (y2 - 3) + 0.1 * rng.normal())) : y;
      const n = counts[speaker]!++;
      out.push({
        uid: uidOf(speaker, n),
        speaker,
        label,
        difficulty: Math.round(difficulty * 1e6) / 1e6,
        features,
        // the other actor's face in the same clip: its own (uninformative) track; empty when ours is
        otherFace: speakers && !emptyFace ? world.render(rng, 'v', z, s, false) : undefined,
      });
    }
    return out;
  };

  const dialogues: SynthDialogue[] = [];
  if (!mosi) {
    spec.sessions.forEach(([nd, nu], si) => {
      const session = si + 1;
      const lengths = splitLengths(rng, nd, nu);
      lengths.forEach((len, i) => {
        const lead = i % 2 === 0 ? 'F' : 'M';
        const vid = `Ses0${session}${lead}_impro${String((i >> 1) + 1).padStart(2, '0')}`;
        dialogues.push({ vid, session, utterances: makeDialogue(vid, len, (sp, n) => `${vid}_${sp}${String(n).padStart(3, '0')}`, true) });
      });
    });
  } else {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const splitNames = ['train', 'valid', 'test'] as const;
    spec.splits.forEach(([nv, nu], si) => {
      splitLengths(rng, nv, nu).forEach((len) => {
        const vid = Array.from({ length: 11 }, () => alphabet[rng.int(alphabet.length)]).join('');
        dialogues.push({ vid, split: splitNames[si], utterances: makeDialogue(vid, len, (_sp, n) => `${vid}_${n + 1}`, false) });
      });
    });
  }
  return { dialogues, dims: spec.dims, format };
}

/**
 * Writes the corpus to `out` in the GCNet layout, atomically: everything goes to a sibling temp
 * folder that is renamed into place at the end, so a failure leaves no partial corpus.
 */
export function writeSynth(out: string, options: SynthOptions = {}): { utterances: number; dialogues: number; labelFile: string } {
  const target = resolve(out);
  if (existsSync(target) && readdirSync(target).length > 0) throw new HardyError(`${target}: output folder already exists and is not empty`);
  const { dialogues, format, dims } = generateSynth(options);
  const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const dirs = Object.fromEntries(MODALITIES.map((m) => [m, join(tmp, 'features', DEFAULT_FEATURE_DIRS[m])])) as Record<Modality, string>;
    for (const m of MODALITIES) mkdirSync(dirs[m], { recursive: true });
    const difficulty = new Map<string, number | Record<Modality, number>>();
    for (const d of dialogues) {
      for (const u of d.utterances) {
        difficulty.set(u.uid, u.modalityDifficulty ?? u.difficulty);
        writeFileSync(join(dirs.a, `${u.uid}.npy`), encodeNpyF32(u.features.a!, [dims.a]));
        writeFileSync(join(dirs.t, `${u.uid}.npy`), encodeNpyF32(u.features.t!, [dims.t]));
        if (format === 'iemocap') {
          // one face track per actor, as MA-Net features of a dyadic clip
          const faceDir = join(dirs.v, u.uid);
          mkdirSync(faceDir);
          const other = u.speaker === 'F' ? 'M' : 'F';
          if (u.features.v) writeFileSync(join(faceDir, `compress_${u.speaker}.npy`), encodeNpyF32(u.features.v, [dims.v]));
          if (u.otherFace) writeFileSync(join(faceDir, `compress_${other}.npy`), encodeNpyF32(u.otherFace, [dims.v]));
        } else {
          writeFileSync(join(dirs.v, `${u.uid}.npy`), encodeNpyF32(u.features.v ?? new Float32Array(dims.v), [dims.v]));
        }
      }
    }
    const map = <T extends PickleValue>(f: (d: SynthDialogue) => T): Map<string, T> => new Map(dialogues.map((d) => [d.vid, f(d)]));
    const videoIDs = map((d) => d.utterances.map((u) => u.uid));
    const videoSpeakers = map((d) => d.utterances.map((u) => u.speaker));
    const videoSentences = map((d) => d.utterances.map((u, i) => `synthetic utterance ${i + 1} of ${d.vid}`));
    let labelFile: string;
    let payload: PickleValue;
    if (format === 'iemocap') {
      labelFile = DATASETS.iemocap4.labelFile;
      const videoLabels = map((d) => d.utterances.map((u) => u.label));
      // GCNet's IEMOCAP pickle: sessions 1-4 train, 5 test (folds are made from sessions anyway)
      const train = new Set(dialogues.filter((d) => d.session !== 5).map((d) => d.vid));
      const test = new Set(dialogues.filter((d) => d.session === 5).map((d) => d.vid));
      payload = [videoIDs, videoLabels, videoSpeakers, videoSentences, train, test];
      writeFileSync(join(tmp, labelFile), encodePickle(payload, 2));
    } else {
      labelFile = DATASETS.mosi.labelFile;
      const videoLabels = map((d) => d.utterances.map((u) => new NpFloat64(u.label)));
      const bySplit = (s: string): Set<string> => new Set(dialogues.filter((d) => d.split === s).map((d) => d.vid));
      payload = [videoIDs, videoLabels, videoSpeakers, videoSentences, bySplit('train'), bySplit('valid'), bySplit('test')];
      writeFileSync(join(tmp, labelFile), encodePickle(payload, 4));
    }
    writeFileSync(join(tmp, 'difficulty.json'), JSON.stringify(Object.fromEntries(difficulty)) + '\n');
    writeFileSync(
      join(tmp, 'synth.json'),
      JSON.stringify(
        options.preset === 'scripted'
          ? { generator: 'hardy-mer synth', preset: 'scripted', seed: options.seed ?? 0, format, dims, constants: { ...SCRIPTED, coupling: options.coupling ?? 0 }, difficulty: SCRIPTED_FORMULA }
          : { generator: 'hardy-mer synth', preset: options.preset ?? 'tiny', seed: options.seed ?? 0, format, dims, tau: TAU, corruptProb: CORRUPT_PROB, difficulty: DIFFICULTY_FORMULA },
        null,
        2,
      ) + '\n',
    );
    if (existsSync(target)) rmSync(target, { recursive: true }); // empty folder checked above
    renameSync(tmp, target);
    return { utterances: difficulty.size, dialogues: dialogues.length, labelFile: join(target, labelFile) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

