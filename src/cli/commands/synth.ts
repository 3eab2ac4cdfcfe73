/** `hardy-mer synth`: write a synthetic corpus in the GCNet layout. */
import { Command, Option } from 'commander';
import { HardyError } from '../../util/errors.ts';
import { loadCorpus } from '../../data/load.ts';
import { calibrateCorpus, formatCalibration } from '../../data/calibrate.ts';
import { writeSynth, SYNTH_PRESETS, type SynthFormat, type SynthPreset } from '../../data/synth.ts';

export function register(program: Command): void {
  program
    .command('synth')
    .description('Write a synthetic IEMOCAP-like (or CMU-MOSI-like) corpus with known per-utterance difficulty, in the GCNet layout')
    .requiredOption('--out <dir>', 'output folder (must not exist or be empty)')
    .addOption(new Option('--preset <name>', 'size and kind: tiny (80 utterances), small (~900), iemocap (5,531, dims 512/1024/1024), scripted (900: script lines reused across sessions, speaker offsets, per-modality recoverability)').choices([...SYNTH_PRESETS]).default('tiny'))
    .option('--seed <n>', 'random seed', '0')
    .addOption(new Option('--format <name>', 'label pickle layout').choices(['iemocap', 'mosi']).default('iemocap'))
    .option('--coupling <p>', 'scripted only: probability in [0, 1] that audio and video are as recoverable as their line\'s text (0: independent; > 0 makes a missing modality\'s recoverability matter to classifying without it)', '0')
    .action((opts: { out: string; preset: SynthPreset; seed: string; format: SynthFormat; coupling: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new HardyError(`--seed must be a non-negative integer, got '${opts.seed}'`);
      const t0 = Date.now();
      const coupling = Number(opts.coupling);
      if (opts.coupling.trim() === '' || !(coupling >= 0 && coupling <= 1)) throw new HardyError(`--coupling must be a number in [0, 1], got '${opts.coupling}'`);
      const r = writeSynth(opts.out, { preset: opts.preset, seed, format: opts.format, coupling });
      process.stdout.write(`wrote ${r.dialogues} dialogues, ${r.utterances} utterances to ${opts.out} (${r.labelFile}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      // The calibration reads the corpus back as training would; the full-size preset would take minutes.
      if (opts.format === 'iemocap' && opts.preset !== 'iemocap') {
        const cal = calibrateCorpus(loadCorpus(opts.out));
        if (cal) process.stdout.write(formatCalibration(cal) + '\n');
      }
    });
}
