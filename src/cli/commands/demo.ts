import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../../config/load.js';
import type { Decision } from '../../core/types.js';
import { openStore } from '../../store/open-store.js';
import { verifyStoreLedger } from '../../store/verify-chain.js';
import { createWarden } from '../../warden.js';
import { CliExit } from '../context.js';
import { EXIT } from '../exit-codes.js';

function show(label: string, d: Decision): string {
  const why = d.reasons[0] ? `  (${d.reasons[0].control}, ${d.reasons[0].risk}: ${d.reasons[0].message})` : '';
  return `  ${d.verdict.toUpperCase().padEnd(7)} ${label}${why}`;
}

/** `warden demo`: runs the pipeline end to end over the example policy against a fresh embedded store. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run Warden end to end on the example policy with a fresh embedded store and print each decision')
    .action(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
      const store = await openStore({ path: join(dir, 'warden.db') });
      try {
        const text = readFileSync(new URL('../../../examples/warden.yaml', import.meta.url), 'utf8');
        const warden = await createWarden({ config: parseConfig(text, 'examples/warden.yaml'), store });
        const out: string[] = ['Warden demo: the example policy (examples/warden.yaml), a fresh SQLite store.', ''];
        const researcher = warden.session({ agent: 'researcher', user: 'dana', task: 'summarise' });
        out.push('researcher (Intern, read-only):');
        out.push(show('ingest the user request', await researcher.ingest({ source: 'user', text: 'Summarise the release notes.' })));
        out.push(show('web_fetch a page', await researcher.authorize({ tool: 'web_fetch', args: { url: 'https://example.com/notes' } })));
        out.push(show('post_comment (a write)', await researcher.authorize({ tool: 'post_comment', args: { body: 'done' } })));
        out.push(show('drop_database (not declared)', await researcher.authorize({ tool: 'drop_database', args: {} })));
        const shadow = warden.session({ agent: 'unregistered-bot' });
        out.push('', 'unregistered-bot (not in warden.yaml):');
        out.push(show('web_fetch', await shadow.authorize({ tool: 'web_fetch', args: { url: 'https://example.com' } })));
        await warden.kill('agent', 'researcher', 'demo: incident response drill', 'demo');
        out.push('', 'after `warden kill researcher`:');
        out.push(show('web_fetch', await researcher.authorize({ tool: 'web_fetch', args: { url: 'https://example.com' } })));
        await warden.close();
        const verified = await verifyStoreLedger(store);
        out.push('', verified.ok ? `ledger: ${verified.count} records, hash chain intact` : 'ledger: chain BROKEN');
        process.stdout.write(out.join('\n') + '\n');
        if (!verified.ok) throw new CliExit(EXIT.failed);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
}
