/**
 * tfjs's reverse pass with one change: memory is freed as the pass goes.
 *
 * Why: tfjs 4.22's `engine.gradients` keeps the gradient of every intermediate tensor, and every
 * tensor saved for backward, until the whole backward pass ends, so a step's peak memory is all
 * saved activations plus all their gradients (measured: a 1.1 GB wasm heap for the student at
 * S = 110, and the wasm heap never shrinks). Here, once a node's gradient has been computed, the
 * gradients of its outputs and the tensors it saved are disposed: nothing later in the reverse
 * walk can read them. Everything else (the forward in its own tidy, the x -> y tape filter, the
 * accumulation, the final clean-up) follows tfjs's code; higher-order gradients (a reverse pass
 * inside another) keep tfjs's own implementation.
 *
 * This replaces a method of tfjs's engine object, so the tfjs version is pinned exactly and
 * test/engine/autograd.test.ts checks gradients against the original implementation.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs's (internal) tape node and engine this module uses. */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients: GradientsFn;
}
type GradientsFn = (
  this: EngineInternals, f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

let original: GradientsFn | undefined;

/** Install on tfjs's engine (idempotent). */
export function installLeanGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.gradients === leanGradients) return;
  original = engine.gradients;
  engine.gradients = leanGradients;
}

/** Put tfjs's own implementation back (for the comparison test). */
export function uninstallLeanGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (original && engine.gradients === leanGradients) engine.gradients = original;
}

const leanGradients: GradientsFn = function (this: EngineInternals, f, xs, dy, allowNoGradients = false) {
  if (this.state.gradientDepth > 0) return original!.call(this, f, xs, dy, allowNoGradients);
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(() => this.startTape(), () => this.endTape(), () => this.tidy('forward', f));
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = this.state.activeTape!;
  const filtered = nodesFromXToY(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
  }
  return this.tidy('backward', () => {
    const keep = new Set(xs.map((x) => x.id));
    const grads = new GradientMap();
    grads.set(y.id, dy ?? tf.ones(y.shape));
    if (dy != null) keep.add(y.id); // the caller's tensor is not ours to free
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i]!;
      if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const inputGrads = node.gradient(node.outputs.map((o: tf.Tensor) => grads.get(o.id) ?? null));
      for (const name in node.inputs) {
        if (!(name in inputGrads)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGrads)}.`);
        const dx = this.tidy(() => inputGrads[name]!());
        const x = node.inputs[name]!;
        if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        if (!tf.util.arraysEqual(dx.shape, x.shape)) throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
        grads.accumulate(x.id, dx);
      }
      // Nothing earlier in the tape reads this node's output gradients or its saved tensors.
      for (const o of node.outputs) if (!keep.has(o.id)) grads.release(o.id);
      for (const t of node.saved ?? []) if (!grads.holds(t)) t.dispose();
    }
    const out = xs.map((x) => grads.get(x.id)!);
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    this.state.activeTape = null;
    return { value: y, grads: out };
  }) as unknown as { value: tf.Tensor; grads: tf.Tensor[] };
};

/**
 * The nodes on a path from some x to y, in tape order, each with only its inputs that depend on an
 * x (tfjs's getFilteredNodesXToY, which its bundle does not export; same rules).
 */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const inputs = Object.values(node.inputs);
    if (inputs.length > 0 && node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of inputs) toY.add(t.id);
    }
  }
  return tape
    .filter((node) => nodesFromX.has(node.id) && nodesToY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/**
 * Tensor id -> accumulated gradient. A gradient function may hand back the same tensor object for
 * two inputs, so a tensor is disposed only when no entry refers to it any more.
 */
class GradientMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly refs = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  /** Whether an entry refers to `t` (a gradient function may return a saved tensor as it is). */
  holds(t: tf.Tensor): boolean {
    return this.refs.has(t);
  }

  set(id: number, t: tf.Tensor): void {
    this.byId.set(id, t);
    this.refs.set(t, (this.refs.get(t) ?? 0) + 1);
  }

  accumulate(id: number, dx: tf.Tensor): void {
    const cur = this.byId.get(id);
    if (!cur) return this.set(id, dx);
    const sum = tf.add(cur, dx);
    this.release(id);
    if (!this.refs.has(dx)) dx.dispose();
    this.set(id, sum);
  }

  /** Removes the entry; its tensor is disposed once no other entry refers to it. */
  release(id: number): void {
    const t = this.byId.get(id);
    if (!t) return;
    this.byId.delete(id);
    const n = this.refs.get(t)! - 1;
    if (n > 0) {
      this.refs.set(t, n);
    } else {
      this.refs.delete(t);
      t.dispose();
    }
  }
}
