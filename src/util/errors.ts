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

/** A file-supplied string fit for an error message: control characters escaped, at most `max` characters. */
export function excerpt(s: string, max = 100): string {
  const escaped = s.slice(0, max).replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > max || escaped.length > max ? `${escaped.slice(0, max)}... (${s.length} characters)` : escaped;
}
