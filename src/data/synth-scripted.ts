/**
 * The `scripted` synthetic corpus: one where retrieval has something to find (issue 13). Like
 * IEMOCAP, half of every session is scripted: the same script lines are performed by the two
 * actors of every session, so an utterance's nearest text neighbours are often the same line, with
 * (usually) the same emotion; the other half is improvised (every line new). Speakers shift the audio
 * and video features; and how recoverable each modality is varies from utterance to utterance and
 * is recorded as ground truth.
 *
 * Generative model (K-dim latent, C = 4 classes with orthonormal prototypes mu_c of norm R):
 *   line l:        written emotion y_l, content e_l ~ N(0, sc^2 I_K), private text part g_l ~ N(0, I_Kp)
 *                  (scripted lines are shared by the 5 sessions' performances; improvised are one-off)
 *   performance:   label y = y_l with prob KEEP (scripted), else another class (actors differ);
 *                  improvised: y follows a sticky chain and y_l = y
 *   latents:       audio/video  z = mu_y + e_l + sp * d        (d ~ N(0, I_K), this performance)
 *                  text         z_t = mu_{y_l} + e_l           (the words: the same for every performance)
 *   recoverability rho_m ~ 0.05 + 0.85 U^1.3 per utterance and modality (text: per line, as its
 *                  words are): the private share of x_m. With coupling kappa > 0, a performance's
 *                  audio and video each take its line's text rho with probability kappa (else their
 *                  own draw): the marginals stay the same, the modalities' recoverability correlates.
 *   modality m:    x_m = c_m (sqrt(1 - rho_m) W_m (z_m + tau_m n_m) + sqrt(rho_m) P_m g_m) + o_{speaker,m} + w
 *                  W_m [d_m, K], P_m [d_m, Kp] ~ N(0, 1/K); n_m ~ N(0, I_K) (text: the line's); g_t = g_l (the line's),
 *                  g_a, g_v fresh; o a per-speaker offset (audio and video only); w white noise.
 *   ground truth   difficulty.json: {uid: {a, t, v}}: rho_m, the share of x_m that no other modality
 *                  carries, i.e. how hard m is to recover when it is missing. Under a condition the
 *                  utterance's true difficulty is the mean of rho_m over the missing modalities.
 * Why the coupling: with kappa = 0 (the default, the corpus of the issue-13 studies) an utterance's
 * difficulty under a condition (the rho of its missing modalities) is independent of everything the
 * student sees under that condition and of its label, so no curriculum keyed on it can help the
 * student (bench/RESULTS.md, "Curriculum study"). The method's premise is that an utterance whose
 * missing modality is hard to recover is hard to classify without it; kappa > 0 makes that true
 * (its available modalities then tend to carry a large private share too, i.e. less of the emotion).
 * The constants are calibrated (`calibrateCorpus`, printed by `synth`/`inspect`) so that ridge
 * probes on sessions 1-4 score near audio 0.60 / text 0.70 / video 0.45 on session 5 and the top-1
 * text neighbour of a training utterance shares its label about 75 % of the time.
 */
import { Rng } from '../util/rng.ts';
import { MODALITIES, type Modality } from './types.ts';
import type { SynthDialogue, SynthUtterance } from './synth.ts';

export const SCRIPTED = {
  dims: { a: 64, t: 128, v: 128 } as Record<Modality, number>,
  latent: 16,
  classes: 4,
  sessions: 5,
  /** Scripts (each performed once per session) and improvised dialogues per session. */
  scripts: 3,
  improvised: 3,
  linesPerDialogue: 30,
  /** Prototype norm, content and performance spread. */
  R: 2.4,
  content: 0.9,
  performance: 0.6,
  tau: { a: 1.15, t: 0.95, v: 2.0 } as Record<Modality, number>,
  /** Probability that a performance keeps the line's written emotion. */
  keep: 0.95,
  speakerOffset: 0.35,
  white: 0.3,
};

export const SCRIPTED_FORMULA =
  'difficulty.json {uid: {a, t, v}}: rho_m, the private (unrecoverable from the other modalities) share of modality m; under a condition the true difficulty is the mean of rho_m over the missing modalities';

/** `count` orthonormal vectors in R^K (Gram-Schmidt on Gaussian draws); both presets use it. */
export function orthonormal(rng: Rng, count: number, K: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < count) {
    const v = Float64Array.from({ length: K }, () => rng.normal());
    for (const u of out) {
      let dot = 0;
      for (let k = 0; k < K; k++) dot += v[k]! * u[k]!;
      for (let k = 0; k < K; k++) v[k]! -= dot * u[k]!;
    }
    const n = Math.hypot(...v);
    if (n < 1e-6) continue;
    out.push(v.map((x) => x / n));
  }
  return out;
}

const gauss = (rng: Rng, n: number, scale: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal() * scale);

interface Line {
  y: number;
  e: Float64Array;
  g: Float64Array;
  /** The text's own latent noise and recoverability: fixed by the words, so every performance shares them. */
  nt: Float64Array;
  rhoT: number;
}

/** The scripted corpus in memory (deterministic in `seed` and `coupling`). */
export function generateScripted(seed: number, coupling = 0): SynthDialogue[] {
  const P = SCRIPTED;
  const root = new Rng(seed);
  const rng = root.fork();
  const K = P.latent;
  const Kp = K;
  const C = P.classes;
  const protos = orthonormal(rng, C, K).map((b) => b.map((x) => x * P.R));
  const W = {} as Record<Modality, Float64Array>;
  const Pm = {} as Record<Modality, Float64Array>;
  const scale = {} as Record<Modality, number>;
  for (const m of MODALITIES) {
    W[m] = gauss(rng, P.dims[m] * K, 1 / Math.sqrt(K));
    Pm[m] = gauss(rng, P.dims[m] * Kp, 1 / Math.sqrt(Kp));
    // per-dim variance of W z: (R^2 / K + content^2 + tau^2 (+ performance^2)); private part ~ 1
    scale[m] = 1 / Math.sqrt((P.R * P.R) / K + P.content ** 2 + P.tau[m] ** 2 + P.performance ** 2);
  }
  const recoverability = (): number => Math.round((0.05 + 0.85 * rng.next() ** 1.3) * 1e6) / 1e6;
  const newLine = (y: number): Line => ({ y, e: gauss(rng, K, P.content), g: gauss(rng, Kp, 1), nt: gauss(rng, K, P.tau.t), rhoT: recoverability() });
  const sticky = (prev: number | undefined): number => (prev !== undefined && rng.next() < 0.7 ? prev : rng.int(C));
  // Scripts: fixed sequences of lines with a sticky written emotion, shared by all sessions.
  const scripts: Line[][] = Array.from({ length: P.scripts }, () => {
    let y: number | undefined;
    return Array.from({ length: P.linesPerDialogue }, () => newLine((y = sticky(y))));
  });
  const offsets = new Map<string, Record<Modality, Float64Array>>();
  const offsetOf = (spk: string): Record<Modality, Float64Array> => {
    let o = offsets.get(spk);
    if (!o) {
      o = { a: gauss(rng, P.dims.a, P.speakerOffset), t: new Float64Array(P.dims.t), v: gauss(rng, P.dims.v, P.speakerOffset) };
      offsets.set(spk, o);
    }
    return o;
  };
  const render = (m: Modality, z: Float64Array, g: Float64Array, rho: number, spk: string, noise?: Float64Array): Float32Array => {
    const d = P.dims[m];
    const h = z.map((x, k) => x + (noise ? noise[k]! : P.tau[m] * rng.normal()));
    const a = Math.sqrt(1 - rho) * scale[m];
    const b = Math.sqrt(rho);
    const o = offsetOf(spk)[m];
    const x = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      let p = 0;
      for (let k = 0; k < K; k++) s += W[m][i * K + k]! * h[k]!;
      for (let k = 0; k < Kp; k++) p += Pm[m][i * Kp + k]! * g[k]!;
      x[i] = a * s + b * p + o[i]! + P.white * rng.normal();
    }
    return x;
  };
  const perform = (line: Line, y: number, spk: string, uid: string): SynthUtterance => {
    // `coupling > 0 &&` first: with no coupling no draw is added, so the default corpus is unchanged.
    const own = (): number => (coupling > 0 && rng.next() < coupling ? line.rhoT : recoverability());
    const rho: Record<Modality, number> = { a: own(), t: line.rhoT, v: own() };
    const z = protos[y]!.map((x, k) => x + line.e[k]! + P.performance * rng.normal());
    const zt = protos[line.y]!.map((x, k) => x + line.e[k]!);
    const features: Record<Modality, Float32Array | null> = {
      a: render('a', z, gauss(rng, Kp, 1), rho.a, spk),
      t: render('t', zt, line.g, rho.t, spk, line.nt),
      v: render('v', z, gauss(rng, Kp, 1), rho.v, spk),
    };
    return { uid, speaker: spk.slice(-1), label: y, difficulty: (rho.a + rho.t + rho.v) / 3, modalityDifficulty: rho, features };
  };

  const dialogues: SynthDialogue[] = [];
  for (let s = 1; s <= P.sessions; s++) {
    const actor = (g: 'F' | 'M'): string => `S${s}${g}`;
    const dialogue = (vid: string, lead: 'F' | 'M', lines: Line[], labels: number[]): SynthDialogue => {
      const counts = { F: 0, M: 0 };
      let g = lead;
      const utterances = lines.map((line, i) => {
        if (i > 0 && rng.next() < 0.65) g = g === 'F' ? 'M' : 'F';
        return perform(line, labels[i]!, actor(g), `${vid}_${g}${String(counts[g]++).padStart(3, '0')}`);
      });
      return { vid, session: s, utterances };
    };
    scripts.forEach((lines, j) => {
      const lead = j % 2 === 0 ? 'F' : 'M';
      const labels = lines.map((l) => (rng.next() < P.keep ? l.y : (l.y + 1 + rng.int(C - 1)) % C));
      dialogues.push(dialogue(`Ses0${s}${lead}_script0${j + 1}`, lead, lines, labels));
    });
    for (let j = 0; j < P.improvised; j++) {
      const lead = j % 2 === 0 ? 'M' : 'F';
      let y: number | undefined;
      const lines = Array.from({ length: P.linesPerDialogue }, () => newLine((y = sticky(y))));
      dialogues.push(dialogue(`Ses0${s}${lead}_impro0${j + 1}`, lead, lines, lines.map((l) => l.y)));
    }
  }
  return dialogues;
}
