/** The curriculum's hyper-parameters (`curriculum` in the run config). */

export interface CurriculumConfig {
  /** Max neighbours K and minimum K_min. */
  K: number;
  Kmin: number;
  beta: number;
  /**
   * Subtracted inside the sigmoid: h = sigmoid(beta (alpha_1 D + alpha_2 I - centre)). 0 is the paper
   * (h >= 0.5, so K_i is only ever K-1 or K); 0.5 centres it so K_i spans K_min..K.
   */
  centre: number;
  alpha1: number;
  alpha2: number;
  /** `shared`: I_term = I_norm (published code); `complement`: 1 - I_norm. */
  miTerm: 'shared' | 'complement';
  /** How K_i is chosen: from hardness (the method), fixed K, or uniformly random. */
  kPolicy: 'hardness' | 'fixed' | 'random';
  /** Label of a neighbour view: the query's (default) or the neighbour's own. */
  neighbourLabel: 'query' | 'own';
}
