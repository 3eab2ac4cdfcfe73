/**
 * safetensors, the tensor file PyTorch, NumPy and JAX users load without pickle:
 *
 *   bytes 0..8        N, the header's length, unsigned 64-bit little-endian
 *   bytes 8..8+N      the header, UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..],
 *                     "data_offsets": [begin, end] }, ..., "__metadata__": { string: string } }
 *   bytes 8+N..       the tensors' data, row-major, little-endian; offsets count from here
 *
 * Written by hand: the format is the three lines above, and the npm registry has no well-kept
 * writer of it (the reference implementation is Rust/Python). We write and read float32 only (all
 * hardy-mer weights are float32); the header is padded with spaces to a multiple of 8 bytes so the
 * data stays aligned, as the reference writer does, and tensors are laid out in the order given.
 */
import { HardyError } from '../../util/errors.ts';

/** A float32 tensor, row-major. */
export interface Float32Tensor {
  shape: number[];
  values: Float32Array;
}

const HEADER_LIMIT = 100_000_000; // the reference reader's limit: a larger header is malformed

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** `tensors` (in that order) and string `metadata` -> the bytes of a .safetensors file. */
export function encodeSafetensors(tensors: Map<string, Float32Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor may not be called __metadata__');
    if (t.values.length !== numel(t.shape)) throw new Error(`safetensors: ${name} has ${t.values.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.values.length] };
    offset += 4 * t.values.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    for (let i = 0; i < t.values.length; i++, at += 4) view.setFloat32(at, t.values[i]!, true);
  }
  return out;
}

/**
 * The tensors (in file order) and metadata of a .safetensors file. Every malformation is a
 * HardyError naming `source` and the tensor: short file, bad header, a dtype other than F32,
 * offsets that do not match the shape or leave the data, holes or overlaps.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): { tensors: Map<string, Float32Tensor>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new HardyError(`${source}: not a valid safetensors file (${why})`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, expected at least 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(HEADER_LIMIT, bytes.length - 8))) fail(`header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(n)).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`header is not JSON: ${(err as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + Number(n);
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  const tensors = new Map<string, Float32Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e?.dtype !== 'F32') fail(`tensor ${name}: dtype ${JSON.stringify(e?.dtype)}, only F32 is supported`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor ${name}: bad data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    const count = numel(shape as number[]);
    if (end - begin !== 4 * count) fail(`tensor ${name}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape}] needs ${4 * count}`);
    if (end > dataLength) fail(`tensor ${name}: data_offsets end at ${end}, the data has ${dataLength} bytes`);
    spans.push([begin, end, name]);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors.set(name, { shape: shape as number[], values });
  }
  // The format requires the tensors to cover the data exactly: no hole, no overlap, nothing after.
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) fail(`tensor ${name} starts at byte ${begin}, expected ${covered} (a hole or an overlap)`);
    covered = end;
  }
  if (covered !== dataLength) fail(`the tensors cover ${covered} of ${dataLength} data bytes`);
  return { tensors, metadata };
}
