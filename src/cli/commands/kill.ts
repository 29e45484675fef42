import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { KillScope } from '../../observe/kill-switch.js';
import { CliExit, requireReason, wardenFor, type ConfigOption } from '../context.js';
import { EXIT } from '../exit-codes.js';

interface KillOptions {
  reason?: string;
  by?: string;
  session?: string;
  all?: boolean;
  json?: boolean;
}

/** Who a CLI action is attributed to when `--by` is not given: the OS user on this host. */
export function defaultActor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'cli';
  }
}

/** Works out the scope and target from `AGENT`, `--session` and `--all`; exactly one is allowed. */
function scopeOf(
  agent: string | undefined,
  opts: KillOptions,
  verb: string,
): { scope: KillScope; target: string } {
  const given = [agent !== undefined, opts.session !== undefined, opts.all === true].filter(Boolean).length;
  if (given !== 1) {
    throw new CliExit(EXIT.usage, `${verb} needs exactly one of: an AGENT id, --session ID, or --all`);
  }
  if (opts.all) return { scope: 'global', target: '*' };
  if (opts.session !== undefined) return { scope: 'session', target: opts.session };
  return { scope: 'agent', target: agent ?? '' };
}

function describeScope(scope: KillScope, target: string): string {
  return scope === 'global' ? 'every agent (global)' : `${scope} ${target}`;
}

/**
 * `warden kill AGENT | --session ID | --all --reason TEXT [--by NAME]` and `warden release ...`.
 * Engaging is durable in the store and announced to every replica sharing it; both are recorded in the ledger
 * with who and why.
 */
export function registerKill(program: Command): void {
  program
    .command('kill')
    .description(
      'engage a kill switch: every decision it covers halts, here and on every replica sharing the store',
    )
    .argument('[agent]', 'agent id to stop')
    .option('--session <id>', 'stop one session instead of an agent')
    .option('--all', 'stop every agent (global switch)')
    .option('--reason <text>', 'why (required; recorded in the ledger)')
    .option('--by <name>', 'who is doing it (default: OS user@host)')
    .option('--list', 'list engaged kill switches and exit')
    .option('--json', 'print the result as JSON')
    .action(async (agent: string | undefined, opts: KillOptions & { list?: boolean }, cmd: Command) => {
      // Usage errors come before anything is opened.
      const target = opts.list
        ? undefined
        : { ...scopeOf(agent, opts, 'kill'), why: requireReason(opts, 'kill') };
      const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
      try {
        if (!target) {
          const list = warden.runtime.killSwitches.list();
          if (opts.json) process.stdout.write(JSON.stringify(list) + '\n');
          else if (list.length === 0) process.stdout.write('no kill switch is engaged\n');
          else {
            for (const sw of list) {
              process.stdout.write(
                `${describeScope(sw.scope, sw.target)}  by ${sw.by} at ${new Date(sw.engagedAt).toISOString()}: ${sw.reason}\n`,
              );
            }
          }
          return;
        }
        const by = opts.by ?? defaultActor();
        const sw = await warden.kill(target.scope, target.target, target.why, by);
        if (opts.json) process.stdout.write(JSON.stringify(sw) + '\n');
        else
          process.stdout.write(
            `kill switch engaged for ${describeScope(sw.scope, sw.target)} by ${by}: ${target.why}\n`,
          );
      } finally {
        await warden.close();
      }
    });

  program
    .command('release')
    .description('release a kill switch (recorded in the ledger with who and why)')
    .argument('[agent]', 'agent id to release')
    .option('--session <id>', 'release a session switch')
    .option('--all', 'release the global switch')
    .option('--reason <text>', 'why (required; recorded in the ledger)')
    .option('--by <name>', 'who is doing it (default: OS user@host)')
    .option('--json', 'print the result as JSON')
    .action(async (agent: string | undefined, opts: KillOptions, cmd: Command) => {
      const { scope, target } = scopeOf(agent, opts, 'release');
      const why = requireReason(opts, 'release');
      const by = opts.by ?? defaultActor();
      const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
      let released: boolean;
      try {
        released = await warden.release(scope, target, why, by);
      } finally {
        await warden.close();
      }
      if (opts.json)
        process.stdout.write(JSON.stringify({ scope, target, released, by, reason: why }) + '\n');
      else if (released)
        process.stdout.write(`kill switch released for ${describeScope(scope, target)} by ${by}: ${why}\n`);
      if (!released)
        throw new CliExit(
          EXIT.failed,
          opts.json
            ? ''
            : `no kill switch was engaged for ${describeScope(scope, target)} (the attempt is recorded)`,
        );
    });
}
