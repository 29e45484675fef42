import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { approvalsSuite } from './suites/approvals-suite.js';

approvalsSuite('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-approvals-')), 'warden.db');
  const store = await openSqliteStore({ path });
  return { store, reopen: () => openSqliteStore({ path }) };
});
