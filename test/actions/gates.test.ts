import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { gatesSuite } from './suites/gates-suite.js';

gatesSuite('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-gates-')), 'warden.db');
  const store = await openSqliteStore({ path });
  return { store, reopen: () => openSqliteStore({ path }) };
});
