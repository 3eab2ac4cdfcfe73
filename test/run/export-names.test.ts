/**
 * The sidecar's `weightNames` describe every weight a model of its kind has: each parameter name of
 * each model kind matches exactly one pattern of WEIGHT_NAMES[kind], and every pattern is used.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.ts';
import { createModel } from '../../src/model/factory.ts';
import { MODEL_KINDS } from '../../src/model/types.ts';
import { WEIGHT_NAMES } from '../../src/run/export.ts';
import { tinyConfig } from '../support/model-batch.ts';

const PLACEHOLDERS: Record<string, string> = { '{m}': '[atv]', '{l}': '\\d+', '{k}': '\\d+', '{pair}': '[atv]{2}', '{G}': '(?:temporal|speaker)' };

/** `expert.{m}.l{l}.attn.q|k|v` -> /^expert\.[atv]\.l\d+\.attn\.(?:q|k|v)\.(W|b)$/ (alternatives per dot-separated segment). */
function patternRegex(pattern: string): RegExp {
  const segment = (s: string): string => {
    if (s === '*') return '.+';
    const alts = s.split('|').map((a) => a.replace(/\{\w+\}|[^{]+/g, (t) => PLACEHOLDERS[t] ?? t.replace(/[.*+?^$()[\]\\]/g, '\\$&')));
    return alts.length > 1 ? `(?:${alts.join('|')})` : alts[0]!;
  };
  return new RegExp(`^${pattern.split('.').map(segment).join('\\.')}\\.(W|b)$`);
}

before(async () => {
  await initEngine();
});

for (const kind of MODEL_KINDS) {
  test(`every ${kind} weight is described by exactly one name pattern, and every pattern by a weight`, () => {
    const model = createModel(kind, tinyConfig({ hidden: 16 }), 1);
    const patterns = Object.keys(WEIGHT_NAMES[kind]).map((p) => ({ p, re: patternRegex(p), used: false }));
    for (const name of model.params.vars.keys()) {
      const hits = patterns.filter((x) => x.re.test(name));
      assert.equal(hits.length, 1, `${kind}: '${name}' matches ${hits.map((x) => x.p).join(', ') || 'no pattern'}`);
      hits[0]!.used = true;
    }
    for (const x of patterns) assert.ok(x.used, `${kind}: pattern '${x.p}' describes no weight`);
    model.dispose();
  });
}
