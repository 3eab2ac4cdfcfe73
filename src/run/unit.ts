/**
 * A unit: one trained model of a run for one seed and fold. Under the fixed protocol a unit is a
 * condition (the modalities available to its model); under the random protocol it is the missing
 * rate at which every utterance drops modalities. Its folder is named `<condition>` or `rate-<r>`.
 */
import { CONDITIONS, type Condition } from '../data/types.ts';
import type { RunConfig } from '../train/config.ts';

export type Unit = { protocol: 'fixed'; condition: Condition } | { protocol: 'random'; rate: number };

/** The unit's folder name and its key in the results object. */
export const unitName = (u: Unit): string => (u.protocol === 'fixed' ? u.condition : `rate-${u.rate}`);

/** A unit folder's name back to the unit; undefined for a name that is not one. */
export function parseUnit(name: string): Unit | undefined {
  if ((CONDITIONS as readonly string[]).includes(name)) return { protocol: 'fixed', condition: name as Condition };
  const m = /^rate-(.+)$/.exec(name);
  const rate = m ? Number(m[1]) : NaN;
  return Number.isFinite(rate) ? { protocol: 'random', rate } : undefined;
}

/** The condition a unit's model is trained and scored under (random masks: all three given, then dropped). */
export const unitCondition = (u: Unit): Condition => (u.protocol === 'fixed' ? u.condition : 'atv');

/** The units of a run: the conditions (fixed protocol) or the single missing rate (random). */
export function unitsOf(c: RunConfig): Unit[] {
  const p = c.protocol;
  return p.kind === 'fixed' ? c.conditions.map((condition) => ({ protocol: 'fixed', condition })) : [{ protocol: 'random', rate: p.missingRate }];
}

/** `fixed` or `random:<rate>`: the protocol as the results object names it. */
export const protocolName = (c: RunConfig): string => (c.protocol.kind === 'fixed' ? 'fixed' : `random:${c.protocol.missingRate}`);
