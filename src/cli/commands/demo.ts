import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatDemo, formatJson, demoLines } from '../../twin/report.js';
import { CliExit } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadScenariosOrExit, runAll } from './twin.js';

/**
 * The incident scenarios shipped with the package. This file is `dist/cli/commands/demo.js` (or
 * `src/cli/commands/demo.ts` under tsx), three levels below the package root either way.
 */
export function examplesDir(): string {
  return fileURLToPath(new URL('../../../examples/', import.meta.url));
}

/** `warden demo`: replays every shipped incident with and without Warden and says what was stopped. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'replay the Q1 2026 agent incidents in the digital twin, without and with Warden; exits 1 if any is not stopped',
    )
    .option('--json', 'print the full report as JSON')
    .exitOverride()
    .action(async (opts: { json?: boolean }) => {
      const dir = examplesDir();
      if (!existsSync(dir))
        throw new CliExit(
          EXIT.internal,
          `the example scenarios are missing (looked in ${dir}); reinstall agent-warden`,
        );
      const started = performance.now();
      const loaded = loadScenariosOrExit([dir]);
      // The demo's own table is the per-incident account: progress only on a terminal, and erased after.
      const reports = await runAll(loaded, { controls: 'on', baseline: true, progress: 'tty' });
      process.stdout.write(
        opts.json ? formatJson(reports) : formatDemo(reports, performance.now() - started),
      );
      if (demoLines(reports).some((l) => !l.stopped)) throw new CliExit(EXIT.failed);
    });
}
