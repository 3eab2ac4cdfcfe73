/**
 * Upper bounds of the run config: far above anything useful on one machine (the paper uses hidden
 * 256, depth 4, K 3, 200 epochs), far below what overflows memory or an index. A config beyond them
 * is a typo or an attack, refused before anything is written. Here, below every layer, because the
 * model's, the curriculum's and the run's parts of the config each bound their own keys with them.
 */
export const CONFIG_LIMITS = { hidden: 4096, depth: 64, heads: 64, epochs: 100_000, batchSize: 65_536, K: 256 } as const;
