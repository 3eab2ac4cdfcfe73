/**
 * Parser for the Python literals found in `.npy` headers: dicts, tuples, lists, strings, ints,
 * floats, True/False/None. Dicts come back as Map, tuples and lists as arrays. Nothing is evaluated.
 */
export function parsePyLiteral(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`);
  };
  const value = (depth: number): unknown => {
    if (depth > 32) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<unknown, unknown>();
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return m; }
        const k = value(depth + 1);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        m.set(k, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const xs: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === close) { i++; return xs; }
        xs.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|[-+]?\d+(\.\d*)?([eE][-+]?\d+)?L?)/.exec(text.slice(i, i + 64));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace(/L$/, ''));
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
