import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { COMMANDS } from './commands/index.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Builds the `warden` command line. Separate from `main` so tests can run commands in-process. */
export function buildProgram(): Command {
  const program = new Command('warden')
    .description(
      'Warden: a security runtime for AI agents. Policies in warden.yaml, decisions in a hash-chained ledger.',
    )
    .version(version())
    .option('-c, --config <file>', 'config file (default: $WARDEN_CONFIG or ./warden.yaml)')
    .showHelpAfterError('(run `warden --help` for the commands)')
    // Before the commands are added, so every subcommand inherits it: errors come back to main() for exit codes.
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 a check failed, 2 bad usage or config, 3 store unreachable, 70 internal error.
Docs: README.md and docs/ in the package.`,
    );
  for (const register of COMMANDS) register(program);
  return program;
}
