/**
 * Model selection, named once. `val`: the best epoch is chosen on a validation split that is never
 * tested on. `test`: the published code's choice of the best epoch on the test fold itself, which
 * flatters every number; every output of such a run says so, in these words.
 */
export type Selection = 'val' | 'test';

export const TEST_SELECTION_LABEL = 'optimistic: best epoch chosen on the test fold (the paper protocol)';

export const describeSelection = (s: Selection): string => (s === 'test' ? TEST_SELECTION_LABEL : 'best epoch chosen on the validation split');
