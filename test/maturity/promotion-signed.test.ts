import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { promotionSignedSuite } from './suites/promotion-signed-suite.js';

promotionSignedSuite('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-promotion-signed-')), 'warden.db');
  const store = await openSqliteStore({ path });
  return { store, reopen: () => openSqliteStore({ path }) };
});
