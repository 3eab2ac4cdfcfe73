/** `hardy-mer export` and `hardy-mer import`: a run's models as safetensors + JSON sidecar, and back (src/run/export.ts). */
import { Command, Option } from 'commander';
import { CONDITIONS, type Condition } from '../../data/types.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description('Write the models of a run as safetensors (PyTorch layout, loadable without pickle) plus a JSON sidecar (architecture, config, classes, feature pipeline, weight names)')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .requiredOption('--out <file>', 'FILE.safetensors; the sidecar is written beside it as FILE.json')
    .addOption(new Option('--condition <c>', 'only the models of this condition; default all').choices([...CONDITIONS]))
    .action(async (opts: { run: string; out: string; condition?: Condition }) => {
      const condition = opts.condition;
      const { initEngine } = await import('../../engine/backend.ts');
      const { exportRun, sidecarPath } = await import('../../run/export.ts');
      await initEngine();
      const side = exportRun(opts.run, opts.out, { condition });
      process.stderr.write(`wrote ${opts.out} and ${sidecarPath(opts.out)}: ${side.members.length} ${side.kind} model(s) (${[...new Set(side.members.map((m) => m.unit))].join(', ')})\n`);
    });
  program
    .command('import')
    .description('Rebuild a run folder from an exported FILE.safetensors (+ FILE.json) that predict and serve use like a trained run')
    .requiredOption('--model <file>', 'FILE.safetensors written by `hardy-mer export` (its FILE.json beside it)')
    .requiredOption('--out <dir>', 'new run folder (must be empty or absent)')
    .action(async (opts: { model: string; out: string }) => {
      const { initEngine } = await import('../../engine/backend.ts');
      const { importExport } = await import('../../run/export.ts');
      await initEngine();
      const side = importExport(opts.model, opts.out);
      process.stderr.write(`imported ${side.members.length} ${side.kind} model(s) into ${opts.out}\n`);
    });
}
