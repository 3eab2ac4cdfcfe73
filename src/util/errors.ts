/**
 * The project's own error: a message a user can act on (it names the file, the id and what was
 * expected). The CLI prints it without a stack trace and exits non-zero; anything else is a bug.
 */
export class HardyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HardyError';
  }
}

const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
const escapeControl = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** `s` with every control character escaped (`\x1b`): safe to print to a terminal, one line. */
export const printable = (s: string): string => s.replace(CONTROL, escapeControl);

/** A file-supplied string fit for an error message: control characters escaped, at most `max` characters. */
export function excerpt(s: string, max = 100): string {
  const escaped = printable(s.slice(0, max));
  return s.length > max || escaped.length > max ? `${escaped.slice(0, max)}... (${s.length} characters)` : escaped;
}

/**
 * A bounded, escaped description of a value read from a file (a pickled label, a JSON field) for
 * an error message. It never walks into the value: a list of shared references nested 40 deep
 * expands to 2^40 nodes when stringified, and a list nested a million deep overflows the stack,
 * so containers are described by their kind and size only. Strings are quoted and escaped
 * (`excerpt`), huge integers by their size.
 */
export function describeValue(x: unknown, max = 60): string {
  if (x === null || x === undefined) return x === null ? 'None' : 'undefined';
  switch (typeof x) {
    case 'string': return `'${excerpt(x, max)}'`;
    case 'number': case 'boolean': return String(x);
    case 'bigint': {
      const hex = (x < 0n ? -x : x).toString(16); // linear time, unlike decimal
      return hex.length <= 12 ? x.toString() : `an integer of about ${hex.length * 4} bits`;
    }
    case 'object': break;
    default: return `a ${typeof x}`;
  }
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  if (Array.isArray(x)) return `a list/tuple of ${n(x.length, 'item')}`;
  if (x instanceof Map) return `a dict of ${n(x.size, 'item')}`;
  if (x instanceof Set) return `a set of ${n(x.size, 'item')}`;
  if (ArrayBuffer.isView(x)) return `bytes of length ${x.byteLength}`;
  const shape = (x as { shape?: unknown }).shape;
  if (Array.isArray(shape)) return `an array of ${n(shape.length, 'dimension')}`;
  return `an object of ${n(Object.keys(x).length, 'key')}`;
}

/** `'id'` quoted and escaped for a message: ids come from files and requests. */
export const quoteId = (id: string): string => `'${excerpt(id, 120)}'`;
