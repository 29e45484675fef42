import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { promotionSuite } from './suites/promotion-suite.js';

promotionSuite('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-promotion-')), 'warden.db');
  const store = await openSqliteStore({ path });
  return { store, reopen: () => openSqliteStore({ path }) };
});
