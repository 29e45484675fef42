import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { TwinRunRecord } from '../../../src/twin/record.js';
import type { ScenarioReport } from '../../../src/twin/runner.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.scenario.yaml'))
  .sort()
  .map((f) => join('examples', f));
const fixture = (name: string) => join(root, 'test/fixtures/twin', name);

function warden(args: string[], cwd = root) {
  const env = { ...process.env };
  delete env.WARDEN_DATABASE_URL;
  delete env.WARDEN_CONFIG;
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether dist/ holds a build of every source file that is at least as new as the source. */
function distIsCurrent(): boolean {
  const src = join(root, 'src');
  for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const built = join(root, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(src, file)).mtimeMs) return false;
  }
  return true;
}

beforeAll(() => {
  // The commands run from dist/, as users run them. CI has just built it (npm ci runs prepare), so it is only
  // rebuilt when a source is newer: a full tsc takes most of a minute on a loaded 2-core machine. Only tsc
  // runs, not `npm run build`, which would also rewrite the committed schema/warden.schema.json that
  // test/config/schema-file.test.ts checks. Other modules' type errors do not stop tsc from emitting, so the
  // build is judged by its output files, not its exit code.
  if (!distIsCurrent()) {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
  }
  expect(existsSync(cli)).toBe(true);
  expect(existsSync(join(root, 'dist/twin/index.js'))).toBe(true);
}, 300_000);

describe('warden twin run (spawned)', () => {
  it('runs every shipped incident scenario; each holds its caps and expectations', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    const r = warden(['twin', 'run', ...examples]);
    expect(r.stdout).toContain(
      `${examples.length} scenarios: ${examples.length} passed, 0 failed · ${examples.length} stopped by Warden`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/^FAIL/m);
    // Not a terminal: a plain progress line per scenario on stderr.
    expect(r.stderr.match(/^twin: \[\d+\/\d+\] .*: passed/gm)).toHaveLength(examples.length);
  });

  it('prints JSON for CI, with the damage each incident does without Warden', () => {
    const r = warden(['twin', 'run', '--json', 'examples/']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      summary: { total: number; passed: number };
      scenarios: ScenarioReport[];
    };
    expect(report.summary).toMatchObject({ total: examples.length, passed: examples.length });
    for (const s of report.scenarios) {
      expect(s.stopped, s.id).toBe(true);
      expect(s.warden?.capsExceeded, s.id).toBe(false);
      expect(s.baseline?.capsExceeded, `${s.id} does damage without Warden`).toBe(true);
      expect(s.warden?.ledger?.intact, s.id).toBe(true);
    }
  });

  it('prints Markdown for a pull-request comment', () => {
    const r = warden(['twin', 'run', '--markdown', ...examples.slice(0, 2)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^## Warden twin: 2\/2 scenarios passed/);
    expect(r.stdout).toContain('| scenario | result |');
  });

  it('fails (exit 1) when a scenario exceeds its caps, with controls on or off', () => {
    const on = warden(['twin', 'run', fixture('over-cap.scenario.yaml')]);
    expect(on.status).toBe(1);
    expect(on.stdout).toMatch(/^FAIL {2}over-cap/m);
    expect(on.stdout).toContain('✗ cap exceeded: resources touched 3 > 1');
    expect(on.stdout).toContain('1 scenario: 0 passed, 1 failed');
    const off = warden(['twin', 'run', '--controls', 'off', fixture('over-cap.scenario.yaml')]);
    expect(off.status).toBe(1);
    expect(off.stdout).toContain('cap exceeded without controls: resources touched 3 > 1');
    // One failing scenario fails the whole run, even next to passing ones.
    const mixed = warden(['twin', 'run', examples[0] ?? '', fixture('over-cap.scenario.yaml')]);
    expect(mixed.status).toBe(1);
  });

  it('refuses an invalid scenario with exit 2, naming the path, the problem and the fix', () => {
    const r = warden(['twin', 'run', fixture('invalid.scenario.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/invalid\.scenario\.yaml does not validate/);
    expect(r.stderr).toMatch(/- script\[0\]: the step has several kinds \(ingest, call\) \(fix: /);
    expect(r.stderr).toMatch(/- script\[1\]\.wait: must be a duration like 250ms/);
    const usage = warden(['twin', 'run', '--controls', 'maybe', examples[0] ?? '']);
    expect(usage.status).toBe(2);
    expect(warden(['twin', 'validate', 'examples/']).status).toBe(0);
  });
});

describe('warden twin run --record (spawned)', () => {
  it('keeps the runs as evidence in the store the config names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-twin-record-'));
    writeFileSync(
      join(dir, 'warden.yaml'),
      'version: 1\nagents: [{ id: coder, owner: platform-team@example.com }]\nstore: { path: evidence.db }\n',
    );
    const r = warden(['--config', join(dir, 'warden.yaml'), 'twin', 'run', '--record', examples[0] ?? '']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('twin: recorded 1 run(s) as evidence in the store');
    const store = await openSqliteStore({ path: join(dir, 'evidence.db') });
    try {
      const docs = await store.listDocs<TwinRunRecord>('twin_runs');
      expect(docs.map((d) => d.body)).toEqual([
        expect.objectContaining({ scenario: 'hallucinated-deployment-id', agents: ['coder'], passed: true }),
      ]);
      expect(await store.readLedger({ type: 'twin.run' })).toHaveLength(1);
    } finally {
      await store.close();
    }
    expect(
      warden(['--config', join(dir, 'missing.yaml'), 'twin', 'run', '--record', examples[0] ?? '']).status,
    ).toBe(2);
  });
});

describe('warden demo (spawned)', () => {
  it('replays the incidents from any directory and says each one was stopped', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'warden-demo-cwd-'));
    const r = warden(['demo'], elsewhere);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${examples.length} incidents, ${examples.length} stopped.`);
    const rows = r.stdout.split('\n').filter((l) => /^ +\d+ {2}/.test(l));
    expect(rows).toHaveLength(examples.length);
    for (const row of rows) expect(row).toMatch(/STOPPED {2}[a-z-]+ ASI\d\d: \d+ (denied|held|halted)/);
    expect(r.stdout).toMatch(/verification ASI02/);
    expect(r.stdout).toMatch(/kill-switch ASI10/);
    expect(r.stdout).toMatch(/agent-message ASI07/);
    expect(r.stdout).toMatch(/containment ASI08/);
  });
});
