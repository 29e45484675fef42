import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createWarden, type Warden, type WardenOptions } from '../../src/warden.js';

/** A config most tests can start from. */
export const BASE_CONFIG = `version: 1
agents:
  - { id: intern-bot, owner: alice, phase: intern }
  - { id: junior-bot, owner: bob, phase: junior }
  - { id: senior-bot, owner: carol, phase: senior }
tools:
  - { name: read_file, class: read }
  - { name: list_repos, class: read, authoritative: true }
  - { name: write_file, class: write }
  - { name: deploy, class: irreversible, identifiers: [repoId] }
sources:
  - { name: web, tier: 3 }
  - { name: wiki, tier: 2 }
ledger:
  redact: ['internal-[0-9]{4}']
# senior-bot runs these alone (pre-approved classes); without this a Senior's writes wait for a person.
maturity:
  senior:
    preApproved: [{ tool: write_file }, { tool: deploy }]
`;

/** A fresh SQLite store in a temp directory. */
export async function tempSqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  return openSqliteStore({ path: join(dir, 'warden.db') });
}

/** A Warden over a fresh SQLite store; the caller closes both. */
export async function testWarden(
  config: string = BASE_CONFIG,
  options: Partial<WardenOptions> = {},
): Promise<{ warden: Warden; store: Store }> {
  const store = options.store ?? (await tempSqliteStore());
  const warden = await createWarden({ config: parseConfig(config), store, ...options });
  return { warden, store };
}
