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
