/**
 * A minimal pickle disassembler for the fuzzer: it finds opcode boundaries and the length fields
 * (BINUNICODE, BINBYTES, LONG4, FRAME, ...) so mutations can target them. It never builds values.
 */

/** How an opcode's argument is laid out. `len*` arguments are a length followed by that many bytes. */
export type ArgKind = 'none' | 'u1' | 'u2' | 'u4' | 'u8' | 'f8' | 'len1' | 'len4' | 'len8' | 'line' | 'line2';

const ARGS: Record<number, ArgKind> = {};
const set = (kind: ArgKind, ops: string): void => { for (const c of ops) ARGS[c.charCodeAt(0)] = kind; };
set('none', '(.012NRabdeloOst}])\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98Q');
set('u1', '\x80Khq\x82');
set('u2', 'M\x83');
set('u4', 'Jjr\x84');
set('f8', 'G');
set('len1', 'UC\x8c\x8a');
set('len4', 'TXB\x8b');
set('len8', '\x8d\x8e\x96');
set('u8', '\x95');
set('line', 'ILFSVgpP');
set('line2', 'ci');

/** Every opcode byte the pickle format defines (protocols 0-5). */
export const OPCODES = Object.keys(ARGS).map(Number);

export interface PickleOp {
  pos: number;
  op: number;
  kind: ArgKind;
  /** Offset of the argument (the length field for len* kinds). */
  arg: number;
  /** Offset just past this opcode and its argument. */
  end: number;
}

/** Opcodes from the start until STOP, the end of the bytes, or the first malformed one. */
export function disassemble(b: Uint8Array): PickleOp[] {
  const ops: PickleOp[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  while (pos < b.length) {
    const op = b[pos]!;
    const kind = ARGS[op];
    if (kind === undefined) break;
    const arg = pos + 1;
    let end: number;
    switch (kind) {
      case 'none': end = arg; break;
      case 'u1': end = arg + 1; break;
      case 'u2': end = arg + 2; break;
      case 'u4': end = arg + 4; break;
      case 'u8': case 'f8': end = arg + 8; break;
      case 'len1': end = arg + 1 + (b[arg] ?? 0); break;
      case 'len4': end = arg + 4 + (arg + 4 <= b.length ? dv.getUint32(arg, true) : 0); break;
      case 'len8': end = arg + 8 + (arg + 8 <= b.length ? Number(dv.getBigUint64(arg, true)) : 0); break;
      case 'line': { const n = b.indexOf(0x0a, arg); end = n < 0 ? Infinity : n + 1; break; }
      case 'line2': { const n = b.indexOf(0x0a, arg); const m = n < 0 ? -1 : b.indexOf(0x0a, n + 1); end = m < 0 ? Infinity : m + 1; break; }
    }
    if (end > b.length) break;
    ops.push({ pos, op, kind, arg, end });
    pos = end;
    if (op === 0x2e) break; // STOP
  }
  return ops;
}
