import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ProvenanceIndex } from '../src/trust/provenance/index.js';
import { createWarden } from '../src/warden.js';
import { measureAsync } from './measure.js';
import type { BenchResult } from './types.js';

const CONFIG = `version: 1
agents:
  - { id: bench-agent, owner: bench, phase: senior }
tools:
  - { name: get_account, class: read, identifiers: [account_id, owner_email] }
  - { name: fetch_page, class: read, tier: 3 }
  - { name: list_accounts, class: read, authoritative: true }
sources:
  - { name: web, tier: 3 }
`;

/**
 * A tool.call decision with the trust stages on (tier and taint, output inspection, verification) on a session
 * whose provenance index holds 1,000 values, through the full default pipeline with the ledger enqueued into
 * SQLite; plus the verification lookup alone and the cost of indexing a 4 KB result (off the call path).
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-trust-'));
  const store = await openSqliteStore({ path: join(dir, 'bench.db') });
  const warden = await createWarden({ config: parseConfig(CONFIG), store });
  const session = warden.session({ agent: 'bench-agent', user: 'u', task: 't' });
  const accounts = Array.from({ length: 1000 }, (_, i) => ({
    id: `acct-${100000 + i}`,
    owner: `owner${i}@bank.example`,
  }));
  await session.ingest({
    source: 'user',
    text: 'check the balance of acct-100500 for owner500@bank.example',
  });
  await session.record({ tool: 'list_accounts', args: {} }, accounts);
  const verified = {
    tool: 'get_account',
    args: { account_id: 'acct-100777', owner_email: 'OWNER777@bank.example' },
  };
  const check = await session.authorize(verified);
  if (check.verdict !== 'allow')
    throw new Error(`bench setup: expected allow, got ${check.verdict} (${JSON.stringify(check.reasons)})`);
  const unverified = {
    tool: 'get_account',
    args: { account_id: 'acct-999999', owner_email: 'x@evil.example' },
  };
  const url = { tool: 'fetch_page', args: { url: 'https://news.example/today?lang=en&acct=none' } };

  const results: BenchResult[] = [];
  results.push(
    await measureAsync(
      'trust: tool.call, 2 identifiers verified, 1,000 indexed values (full pipeline)',
      () => session.authorize(verified),
      {
        samples: 100_000,
      },
    ),
  );
  results.push(
    await measureAsync(
      'trust: tool.call denied as unverified (full pipeline)',
      () => session.authorize(unverified),
      { samples: 50_000 },
    ),
  );
  results.push(
    await measureAsync(
      'trust: tool.call with a URL argument inspected (full pipeline)',
      () => session.authorize(url),
      { samples: 50_000 },
    ),
  );
  await warden.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const index = new ProvenanceIndex({
    maxTrusted: 20_000,
    maxUntrusted: 20_000,
    maxCharsPerEvent: 256 * 1024,
  });
  const source = { kind: 'result' as const, name: 'list_accounts', tier: 2 as const, eventId: 'e' };
  index.observe(accounts, { cls: 'authoritative', private: true, source });
  const values = ['acct-100777', 'OWNER777@bank.example', 'DE89 3704 0044 0532 0130 00', 1250.5];
  results.push(
    await measureAsync(
      'trust: provenance lookup of one argument, 1,000 indexed values',
      (i) => index.lookup(values[i % values.length]),
      {
        samples: 200_000,
        notes: 'decision-time cost per identifier argument',
      },
    ),
  );
  const page = Array.from(
    { length: 80 },
    (_, i) => `Line ${i}: order ORD-${i * 37} shipped to Warehouse ${i % 7}, total 1,${i}00.50 EUR.`,
  ).join('\n');
  const kb = Math.round(page.length / 1024);
  results.push(
    await measureAsync(
      `trust: index a ${kb} KB tool result (observe time)`,
      () => {
        index.observe(page, { cls: 'tier3', private: false, source });
      },
      { samples: 5_000, notes: 'off the tool.call path: runs when the result is recorded' },
    ),
  );
  return results;
}
