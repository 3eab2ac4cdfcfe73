import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors, type Float32Tensor } from '../../src/data/formats/safetensors.ts';
import { HardyError } from '../../src/util/errors.ts';

const t = (shape: number[], values: number[]): Float32Tensor => ({ shape, values: Float32Array.from(values) });

test('the bytes are the format: u64 LE header length, JSON header padded to 8 with spaces, LE float32 data in order', () => {
  const bytes = encodeSafetensors(new Map([['w', t([2], [1, -2])], ['b', t([1], [0.5])]]), { k: 'v' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  const json = '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
  assert.equal(n % 8, 0);
  assert.equal(header, json + ' '.repeat(n - json.length));
  // 1.0 = 0x3f800000, -2.0 = 0xc0000000, 0.5 = 0x3f000000, little-endian
  assert.deepEqual([...bytes.subarray(8 + n)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f]);
});

test('decode(encode(x)) = x: names in order, shapes, values bit for bit, metadata', () => {
  const tensors = new Map([
    ['m.weight', t([2, 3], [1, 2, 3, 4, 5, Math.fround(1 / 3)])],
    ['m.bias', t([3], [-0, 1e-30, 3e38])],
    ['empty', t([0, 4], [])],
  ]);
  const back = decodeSafetensors(encodeSafetensors(tensors, { format: 'pt' }), 'x.safetensors');
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [k, v] of tensors) {
    assert.deepEqual(back.tensors.get(k)!.shape, v.shape);
    assert.deepEqual(new Uint8Array(back.tensors.get(k)!.values.buffer), new Uint8Array(v.values.buffer));
  }
  assert.deepEqual(back.metadata, { format: 'pt' });
});

/** A file from a header object and a data length (for malformed cases). */
function file(header: object, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

test('malformed files are errors that name the file and the tensor', () => {
  const bad = (bytes: Uint8Array, re: RegExp) => assert.throws(() => decodeSafetensors(bytes, 'm.safetensors'), (e: Error) => e instanceof HardyError && /^m\.safetensors: /.test(e.message) && re.test(e.message));
  bad(new Uint8Array(5), /at least 8/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1000n, true);
  bad(huge, /header length 1000 exceeds/);
  bad(file({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2), /tensor a: dtype "F16"/);
  bad(file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor a: .* needs 12/);
  bad(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), /tensor a: data_offsets end at 8, the data has 4/);
  bad(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /tensor a starts at byte 4, expected 0/);
  bad(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /cover 4 of 8/);
  bad(file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /tensor a: shape/);
  bad(file({ __metadata__: { n: 3 } }, 0), /__metadata__\.n is not a string/);
  const notJson = file({}, 0);
  notJson[8] = 0x7b + 1;
  bad(notJson, /header is not JSON/);
});
