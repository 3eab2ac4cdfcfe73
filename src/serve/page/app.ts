/// <reference lib="dom" />
/**
 * The web page of `hardy-mer serve` (GET /): pick a test-split utterance of the run (or paste a
 * request), switch modalities on and off, and see the class probabilities, the condition used,
 * the hardness estimate and the training utterances it came from. Predictions come from the
 * server, or from the page itself (browser.ts, loaded on first use). Talks only to the server that
 * served it; bundled by esbuild when the server starts (page-bundle.ts), nothing for a user to build.
 */
import type { Condition } from '../../data/types.ts';
import type { ExampleEntry } from '../examples.ts';
import type { PredictResponse, PredictorInfo, RequestDialogue, UtterancePrediction } from '../predictor.ts';

type Body = { condition?: string; fold?: number; explain?: boolean; dialogues?: RawDialogue[]; utterances?: unknown[] };
type RawDialogue = { id: string; utterances: { id: string; speaker?: string; features: Record<string, number[]> }[] };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const MODS = ['a', 't', 'v'] as const;
let token = '';
let info: PredictorInfo | undefined;
let examples: ExampleEntry[] = [];
/** What is shown: an example (its dialogue with its fold, the utterance to show) or a pasted body. */
let current: { body: Body; focus?: string; truth?: string | number } | undefined;
let seq = 0;

const headers = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(path, { ...init, headers: { ...headers(), ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const json = (await r.json().catch(() => ({}))) as { message?: string };
  if (r.status === 401) {
    $('token-row').hidden = false;
    throw new Error('this server needs a bearer token: enter it above');
  }
  if (!r.ok) throw new Error(json.message ?? `${path}: HTTP ${r.status}`);
  return json as T;
}

function setStatus(text: string, error = false): void {
  const s = $('status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

const checked = () => MODS.filter((m) => ($(`modalities`).querySelector(`input[value="${m}"]`) as HTMLInputElement).checked);
const path = () => (document.querySelector('input[name="path"]:checked') as HTMLInputElement).value as 'server' | 'browser';

function renderBars(probs: number[] | undefined, score: number | undefined): void {
  const bars = $('bars');
  bars.replaceChildren();
  if (!info) return;
  if (probs) {
    const best = probs.indexOf(Math.max(...probs));
    info.classNames.forEach((name, k) => {
      const row = document.createElement('div');
      row.className = k === best ? 'bar top' : 'bar';
      row.setAttribute('role', 'listitem');
      row.dataset.class = name;
      row.dataset.p = String(probs[k]);
      row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="value"></span>';
      (row.querySelector('.name') as HTMLElement).textContent = name;
      (row.querySelector('.fill') as HTMLElement).style.width = `${(100 * probs[k]!).toFixed(1)}%`;
      (row.querySelector('.value') as HTMLElement).textContent = `${(100 * probs[k]!).toFixed(1)}%`;
      row.setAttribute('aria-label', `${name}: ${(100 * probs[k]!).toFixed(1)} percent`);
      bars.append(row);
    });
  } else if (score !== undefined) {
    const row = document.createElement('p');
    row.dataset.score = String(score);
    row.textContent = `score ${score.toFixed(3)}`;
    bars.append(row);
  }
}

function renderNeighbours(u: UtterancePrediction | undefined): void {
  const body = $('neighbours').querySelector('tbody')!;
  body.replaceChildren();
  for (const n of u?.neighbours ?? []) {
    const tr = document.createElement('tr');
    for (const [v, num] of [[n.id, false], [n.label ?? '?', false], [n.modality, false], [n.hardness.toFixed(3), true], [n.distance.toFixed(3), true]] as const) {
      const td = document.createElement('td');
      td.textContent = String(v);
      if (num) td.className = 'num';
      tr.append(td);
    }
    body.append(tr);
  }
}

/** Every utterance's request condition is the toggled modalities (each must give them). */
function requestFor(body: Body, condition: string): Body {
  return { ...body, condition, explain: true };
}

/** Predicts what is shown; `body[data-ready]` is set when done (tests and screen readers wait on it). */
async function predict(): Promise<void> {
  if (!current || !info) return;
  const my = ++seq;
  try {
    await predictNow(my);
  } finally {
    if (my === seq) document.body.dataset.ready = String(my);
  }
}

async function predictNow(my: number): Promise<void> {
  if (!current || !info) return;
  const mods = checked();
  const condition = mods.join('') as Condition;
  if (!mods.length) return setStatus('Switch at least one modality on.', true);
  const trained = info.models.map((m) => m.condition);
  if (!trained.includes(condition)) return setStatus(`No model was trained for condition '${condition}' (this run has ${trained.join(', ')}).`, true);
  setStatus(path() === 'browser' ? 'Predicting in this browser…' : 'Predicting on the server…');
  try {
    const req = requestFor(current.body, condition);
    // The server's answer also carries the hardness estimate and the neighbours: the retrieval index stays on the server.
    const served = await api<PredictResponse>('predict', { method: 'POST', body: JSON.stringify(req) });
    let shown = served.utterances;
    let answeredBy = 'the server (a prediction worker thread)';
    if (path() === 'browser') {
      const { predictInBrowser, backendName } = await import('./browser.ts');
      const fold = req.fold; // an example's fold, or every fold (as the server) for a pasted request
      const dialogues = toDialogues(req, condition as Condition);
      const C = info.task === 'classification' ? info.classNames.length : 1;
      const local = await predictInBrowser(dialogues, condition as Condition, fold, C, headers());
      shown = served.utterances.map((u) => {
        const v = local.get(u.id)!;
        return C === 1 ? { ...u, score: v[0], label: v[0]! } : { ...u, probs: v, label: info!.classNames[v.indexOf(Math.max(...v))]! };
      });
      answeredBy = `this browser: ${backendName()}, the engine's pure-TypeScript path; ${fold === undefined ? 'every fold' : `fold ${fold}`}`;
    }
    if (my !== seq) return; // a newer toggle has taken over
    const u = shown.find((x) => x.id === current!.focus) ?? shown[0]!;
    renderBars(u.probs, u.score);
    $('condition').textContent = `${u.condition} (${u.used.map((m) => ({ a: 'audio', t: 'text', v: 'video' })[m]).join(' + ')})`;
    $('answered-by').textContent = answeredBy;
    $('answered-by').dataset.path = path();
    $('truth').textContent = current.truth === undefined ? '–' : String(current.truth);
    $('hardness').textContent = u.hardness === undefined ? 'none (the run has no teacher)' : `${u.hardness.toFixed(3)} (0 easy … 1 hard)`;
    renderNeighbours(served.utterances.find((x) => x.id === u.id));
    $('others').textContent = shown.length > 1 ? `${shown.length} utterances answered; shown: ${u.id} (label ${u.label}).` : '';
    setStatus(`Predicted ${u.id}: ${u.label}.`);
  } catch (err) {
    if (my === seq) setStatus((err as Error).message, true);
  }
}

/**
 * The request's dialogues in the predictor's shape, every utterance under `condition`; a flat list
 * grouped as the server groups it (by `dialogue`, else one dialogue per utterance).
 */
function toDialogues(body: Body, condition: Condition): RequestDialogue[] {
  let raw = body.dialogues;
  if (!raw) {
    const byId = new Map<string, RawDialogue>();
    for (const u of (body.utterances ?? []) as (RawDialogue['utterances'][number] & { dialogue?: string })[]) {
      const id = u.dialogue ?? u.id;
      if (!byId.has(id)) byId.set(id, { id, utterances: [] });
      byId.get(id)!.utterances.push(u);
    }
    raw = [...byId.values()];
  }
  return raw.map((d) => ({
    id: d.id,
    utterances: d.utterances.map((u) => ({
      id: u.id,
      speaker: u.speaker,
      condition,
      features: Object.fromEntries(MODS.filter((m) => condition.includes(m)).map((m) => [m, Float32Array.from(u.features[m]!)])),
    })),
  }));
}

async function pick(): Promise<void> {
  const id = ($('example') as HTMLSelectElement).value;
  const e = examples.find((x) => x.id === id);
  if (!e) return;
  current = { body: await api<Body>(`example?id=${encodeURIComponent(id)}`), focus: id, truth: e.label };
  $('example-note').textContent = `Dialogue ${e.dialogue}, speaker ${e.speaker || '–'}; in the test split of fold ${e.fold}, so only fold ${e.fold}'s models (which never saw it) answer.`;
  await predict();
}

async function pasted(): Promise<void> {
  try {
    const body = JSON.parse(($('paste') as HTMLTextAreaElement).value) as Body | unknown[];
    current = { body: Array.isArray(body) ? { utterances: body } : body };
    await predict();
  } catch (err) {
    setStatus(`The pasted request is not valid JSON: ${(err as Error).message}`, true);
  }
}

async function start(): Promise<void> {
  try {
    info = await api<PredictorInfo>('models');
    const ex = await api<{ examples: ExampleEntry[]; unavailable?: string }>('examples');
    examples = ex.examples;
    $('run-info').textContent = `${info.task}${info.classNames.length ? ` (${info.classNames.join(', ')})` : ''}; models for ${info.models.map((m) => m.condition).join(', ')}.`;
    const select = $('example') as HTMLSelectElement;
    select.replaceChildren(
      ...examples.map((e) => {
        const o = document.createElement('option');
        o.value = e.id;
        o.textContent = `${e.id} (fold ${e.fold}, ${e.label})`;
        return o;
      }),
    );
    select.disabled = examples.length === 0;
    if (ex.unavailable) $('example-note').textContent = `No test utterances: ${ex.unavailable}. Paste a request instead.`;
    if (examples.length) await pick();
  } catch (err) {
    setStatus((err as Error).message, true);
  }
}

$('example').addEventListener('change', () => void pick());
$('modalities').addEventListener('change', () => void predict());
$('path').addEventListener('change', () => void predict());
$('paste-go').addEventListener('click', () => void pasted());
$('upload').addEventListener('change', async () => {
  const f = ($('upload') as HTMLInputElement).files?.[0];
  if (f) ($('paste') as HTMLTextAreaElement).value = await f.text();
  await pasted();
});
$('token-go').addEventListener('click', () => {
  token = ($('token') as HTMLInputElement).value.trim();
  void start();
});
void start();
