/**
 * `hardy-mer` command line. Each command lives in its own file under `commands/` and exports
 * `register(program)`; this file only wires them and turns errors into a clean non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../util/version.ts';
import { EXIT_USAGE, installFatalHandler, reportFatal } from './fatal.ts';
import { register as synth } from './commands/synth.ts';
import { register as inspect } from './commands/inspect.ts';
import { register as trainCmd } from './commands/train.ts';
import { register as report } from './commands/report.ts';
import { register as predict } from './commands/predict.ts';
import { register as evalCmd } from './commands/eval.ts';
import { register as compare } from './commands/compare.ts';
import { register as serve } from './commands/serve.ts';
import { register as demo } from './commands/demo.ts';
import { register as exportCmds } from './commands/export.ts';
import { register as worker } from './commands/worker.ts';

/** Each command module's `register`; add one line per command. */
const COMMANDS: Array<(program: Command) => void> = [synth, inspect, trainCmd, evalCmd, compare, report, predict, serve, exportCmds, demo, worker];

/** Runs the CLI; resolves with the exit code (see fatal.ts for their meaning). Never rejects. */
export async function main(argv: string[]): Promise<number> {
  installFatalHandler(argv);
  const program = new Command();
  program
    .name('hardy-mer')
    .description('Hardness-aware multimodal emotion recognition that stays accurate with missing modalities.')
    .version(VERSION, '-V, --version', 'print the version of hardy-mer')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors with 1.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    return reportFatal(err, argv);
  }
}
