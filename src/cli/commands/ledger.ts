import type { Command } from 'commander';
import type { LedgerRecord } from '../../store/store.js';
import { verifyStoreLedger } from '../../store/verify-chain.js';
import { CliExit, loadConfigOrExit, openConfiguredStore, type ConfigOption } from '../context.js';
import { EXIT } from '../exit-codes.js';

function line(r: LedgerRecord): string {
  const when = new Date(r.ts).toISOString();
  const who = [r.agent, r.session && r.session.slice(0, 8)].filter(Boolean).join('/');
  const data = r.data as { reasons?: { message: string }[] } | null;
  const why = data?.reasons?.[0]?.message;
  return `${String(r.seq).padStart(6)} ${when} ${r.type.padEnd(18)} ${(r.verdict ?? '-').padEnd(7)} ${who}${r.tool ? ` ${r.tool}` : ''}${why ? `  ${why}` : ''}`;
}

/** `warden ledger verify | tail | export`. */
export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('read and verify the hash-chained ledger');

  ledger
    .command('verify')
    .description(
      'check the hash chain; exits 1 and names the first broken record if any was edited, removed or reordered',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const store = await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()));
      try {
        const result = await verifyStoreLedger(store);
        if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
        else if (result.ok) process.stdout.write(`ledger intact: ${result.count} records, chain verified\n`);
        else {
          const b = result.firstBroken;
          process.stdout.write(
            `ledger BROKEN at record seq ${b.seq} (id ${b.id}): ${b.problem}; ${result.count} records before it are intact\n`,
          );
        }
        if (!result.ok) throw new CliExit(EXIT.failed);
      } finally {
        await store.close();
      }
    });

  ledger
    .command('tail')
    .description('print the last records')
    .option('-n, --lines <n>', 'how many', '20')
    .option('--agent <id>', 'only this agent')
    .option('--session <id>', 'only this session')
    .action(async (opts: { lines: string; agent?: string; session?: string }, cmd: Command) => {
      const n = Number.parseInt(opts.lines, 10);
      if (!Number.isInteger(n) || n < 1)
        throw new CliExit(EXIT.usage, '--lines takes a positive whole number');
      const store = await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()));
      try {
        const head = await store.ledgerHead();
        const afterSeq = Math.max(0, (head?.seq ?? 0) - (opts.agent || opts.session ? 100_000 : n));
        const rows = await store.readLedger({
          afterSeq,
          ...(opts.agent ? { agent: opts.agent } : {}),
          ...(opts.session ? { session: opts.session } : {}),
        });
        for (const r of rows.slice(-n)) process.stdout.write(line(r) + '\n');
      } finally {
        await store.close();
      }
    });

  ledger
    .command('export')
    .description('write the whole ledger to stdout')
    .option('--format <format>', 'jsonl', 'jsonl')
    .action(async (opts: { format: string }, cmd: Command) => {
      if (opts.format !== 'jsonl') throw new CliExit(EXIT.usage, `unknown format ${opts.format}; use jsonl`);
      const store = await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()));
      try {
        let afterSeq = 0;
        for (;;) {
          const page = await store.readLedger({ afterSeq, limit: 5_000 });
          if (page.length === 0) break;
          for (const r of page) process.stdout.write(JSON.stringify(r) + '\n');
          afterSeq = page[page.length - 1]?.seq ?? afterSeq;
        }
      } finally {
        await store.close();
      }
    });
}
