/** The text formats every results-printing command offers (`--format`). */
export type OutputFormat = 'table' | 'csv' | 'md' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'md', 'json'];
