import type { Command } from 'commander';
import { actionsWarnings } from '../../actions/lint.js';
import { maturityWarnings } from '../../maturity/lint.js';
import { loadConfigOrExit, toCliExit } from '../context.js';

/** `warden validate [file]`: exit 0 when the file is a valid policy, 2 with every problem listed otherwise. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a warden.yaml; exits 0 when valid, 2 with every problem listed when not')
    .argument('[file]', 'config file (default: --config, $WARDEN_CONFIG or ./warden.yaml)')
    .action((file: string | undefined, _opts: unknown, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ config?: string }>();
      const loaded = loadConfigOrExit({ config: file ?? global.config });
      const c = loaded.config;
      let warnings: string[];
      try {
        warnings = [...actionsWarnings(c, loaded.baseDir), ...maturityWarnings(c)];
      } catch (error) {
        throw toCliExit(error);
      }
      process.stdout.write(
        `${loaded.path ?? 'config'} is valid: ${c.agents.length} agent(s), ${c.tools.length} tool(s), ${c.sources.length} source(s)\n`,
      );
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    });
}
