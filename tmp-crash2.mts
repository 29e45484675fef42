import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extension as a } from './src/actions/extension.ts';
import { extension as mt } from './src/maturity/extension.ts';
import { parseConfig } from './src/config/load.ts';
import { openSqliteStore } from './src/store/sqlite/sqlite-store.ts';
import { createWarden } from './src/warden.ts';
const mode = process.argv[2] ?? 'own';
const lines: string[] = [];
for (let i = 0; i < 9; i++) lines.push(`      - { tool: deploy, where: { repoId: "org/repo-${i}", env: [staging, prod] } }`);
lines.push('      - { tool: deploy, where: { repoId: "acme/*", env: [staging, prod] } }');
const text = `version: 1\nagents:\n  - id: bot\n    owner: o\n    phase: principal\n    grants:\n${lines.join('\n')}\ntools:\n  - { name: deploy, class: read }\n`;
const store = await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'c-')), 'b.db') });
const w = await createWarden({ config: parseConfig(text), store, ...(mode === 'own' ? { extensions: [a(), mt()] } : mode === 'none' ? { extensions: [] } : {}) });
const s = w.session({ agent: 'bot' });
const call = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod', day: 'mon' } };
for (let i = 0; i < 150_000; i++) {
  const t0 = process.hrtime.bigint();
  await s.authorize(call);
  void t0;
}
await w.close(); await store.close();
console.log('ok');
