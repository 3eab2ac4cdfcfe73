// Regressions for `.npy` reader problems found by the fuzzer (issue 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNpy } from '../../src/data/formats/npy.ts';
import { HardyError } from '../../src/util/errors.ts';

function npy(header: string, data = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(h, 10);
  out.set(data, 10 + h.length);
  return out;
}

test('errors about a declared shape or dtype stay short when the header declares thousands of them', () => {
  const dims = new Array<string>(3000).fill('1').join(', ');
  const cases: [string, RegExp][] = [
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`, /truncated \.npy data: 0 bytes for shape \(1, 1, 1, 1, 1, 1, 1, 1, \.\.\. \(3000 dimensions\)\)/],
    [`{'descr': '<f${'9'.repeat(5000)}', 'fortran_order': False, 'shape': (1,), }`, /unsupported .*\(5002 characters\)/],
  ];
  for (const [header, pattern] of cases) {
    assert.throws(() => parseNpy(npy(header), 'x.npy'), (e: unknown) => e instanceof HardyError && e.message.startsWith('x.npy: ') && pattern.test(e.message) && e.message.length < 400);
  }
});

test('a shape far larger than the file is refused before anything is allocated', () => {
  const before = process.memoryUsage().arrayBuffers;
  for (const shape of ['(1099511627776,)', '(2147483648, 2147483648)', '(67108864, 67108864, 67108864)']) {
    assert.throws(() => parseNpy(npy(`{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }`, new Uint8Array(64)), 'big.npy'), /big\.npy: (truncated \.npy data|array shape .* is too large)/);
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
});
