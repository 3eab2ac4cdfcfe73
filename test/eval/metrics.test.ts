import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, meanStd } from '../../src/eval/aggregate.ts';
import { classificationMetrics, pearson, regressionMetrics, roundHalfEven } from '../../src/eval/metrics.ts';
import { decodeRows } from '../../src/train/evaluate.ts';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('classification metrics', () => {
  it('match hand-computed WA, UA, weighted and macro F1', () => {
    const labels = [0, 0, 0, 1, 1, 2];
    const preds = [0, 0, 1, 1, 2, 2];
    const m = classificationMetrics(preds, labels, 3);
    assert.deepEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    close(m.WA, 4 / 6);
    // recalls: 2/3, 1/2, 1
    close(m.UA, (2 / 3 + 1 / 2 + 1) / 3);
    // precisions: 1, 1/2, 1/2 -> F1: 0.8, 0.5, 2/3
    close(m.F1m, (0.8 + 0.5 + 2 / 3) / 3);
    close(m.F1w, (3 * 0.8 + 2 * 0.5 + 1 * (2 / 3)) / 6);
  });

  it('a class absent from labels and predictions does not count in the macro averages', () => {
    const m = classificationMetrics([0, 1, 1], [0, 1, 0], 4);
    close(m.UA, (1 / 2 + 1) / 2);
    close(m.F1m, (2 / 3 + 2 / 3) / 2);
  });

  it('argmax per row', () => {
    assert.deepEqual(decodeRows([0.1, 0.7, 0.2, 3, -1, 2], 3), [1, 0]);
  });
});

describe('regression metrics', () => {
  it('match hand-computed values', () => {
    const labels = [2.4, -1, 0, 0.5, -2.6];
    const preds = [1.0, 0.5, -0.2, 0.4, -3.5];
    const m = regressionMetrics(preds, labels);
    // non-zero labels: 2.4,-1,0.5,-2.6 vs preds 1,0.5,0.4,-3.5 -> signs: T,F,T,T -> 3/4
    close(m.ACC2, 3 / 4);
    // binary truth [1,0,1,0], pred [1,1,1,0]: class0: p=1 r=.5 f1=2/3; class1: p=2/3 r=1 f1=.8; weighted (2*2/3+2*.8)/4
    close(m.F1, (2 * (2 / 3) + 2 * 0.8) / 4);
    // with zeros (>= 0): truth [1,0,1,1,0], pred [1,1,0,1,0] -> 3/5
    close(m.ACC2_hz, 3 / 5);
    // class0: tp1 pred2 true2 -> p .5 r .5 f1 .5; class1: tp2 pred3 true3 -> f1 2/3; weighted (2*.5+3*2/3)/5
    close(m.F1_hz, (2 * 0.5 + 3 * (2 / 3)) / 5);
    // rounded: labels 2,-1,0,0(0.5 -> 0),-3; preds 1,0(0.5->0),0(-0.2),0,-3 -> matches: idx2, idx3, idx4 -> 3/5
    close(m.ACC7, 3 / 5);
    close(m.MAE, (1.4 + 1.5 + 0.2 + 0.1 + 0.9) / 5, 1e-12);
    close(m.Corr, pearson(preds, labels));
  });

  it('Pearson of a known pair; rounding half to even like NumPy', () => {
    close(pearson([1, 2, 3], [2, 4, 6]), 1);
    close(pearson([1, 2, 3], [3, 2, 1]), -1);
    close(pearson([1, 2, 3, 4], [1, 3, 2, 4]), 0.8);
    assert.deepEqual([2.5, 1.5, -0.5, -2.5, 0.4, -1.6].map(roundHalfEven), [2, 2, 0, -2, 0, -2]);
  });
});

describe('aggregation', () => {
  it('fold mean per condition, six-condition average, mean +- std over seeds', () => {
    const conds = ['a', 't', 'v', 'at', 'av', 'tv'] as const;
    const runs = [];
    for (const seed of [1, 2])
      for (const [ci, c] of conds.entries())
        for (const fold of [1, 2]) runs.push({ seed, condition: c, fold, metrics: { WA: ci / 10 + fold / 100 + seed / 1000 } });
    const agg = aggregate(runs);
    // condition a: seed1 fold mean = 0.015 + 0.001, seed2 = 0.015 + 0.002
    close(agg.perCondition.a!.WA!.mean, 0.015 + 0.0015, 1e-12);
    close(agg.perCondition.a!.WA!.std, Math.sqrt(((0.0005) ** 2 * 2) / 1), 1e-12);
    // average over conditions: mean ci/10 = 0.25
    close(agg.average!.WA!.mean, 0.25 + 0.015 + 0.0015, 1e-12);
    assert.deepEqual(agg.seeds, [1, 2]);
    assert.equal(aggregate(runs.filter((r) => r.condition !== 'tv')).average, undefined);
    assert.equal(meanStd([{ WA: 0.5 }]).WA!.std, 0);
  });
});
