import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ACTIONS_CONFIG, actionsWarden } from './helpers.js';
import { runCli } from '../helpers/cli.js';

function project(config: string): { file: string; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-actions-'));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `${config}store:\n  path: warden.db\n`);
  return { file, db: join(dir, 'warden.db') };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function withRequest(call: { tool: string; args: Record<string, unknown>; rationale?: string }) {
  const p = project(ACTIONS_CONFIG);
  const store = await openSqliteStore({ path: p.db });
  const w = await actionsWarden(store);
  cleanup.push(
    () => store.close(),
    () => w.close(),
  );
  const d = await w.session({ agent: 'deployer', user: 'dana' }).authorize(call);
  return { ...p, id: d.approvalId!, w };
}

describe('warden approvals', () => {
  it('lists, shows and approves, refusing whoever may not', async () => {
    const { file, id, w } = await withRequest({
      tool: 'deploy',
      args: { repoId: 'acme/web', env: 'staging' },
      rationale: 'the ticket says so',
    });
    const list = await runCli(['--config', file, 'approvals', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/PENDING\s+0\/1\s+deployer\s+deploy/);
    const shown = await runCli(['--config', file, 'approvals', 'show', id]);
    expect(shown.stdout).toMatch(/Why a person must look:\n\s+- deployer is a Junior/);
    expect(shown.stdout).toMatch(/repoId = "acme\/web"\n\s+provenance: unknown/);
    expect(shown.stdout).toMatch(
      /The agent's own rationale \(its words, not verified\):\n\s+\| the ticket says so/,
    );
    const self = await runCli(['--config', file, 'approvals', 'approve', id, '--as', 'olivia']);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/owns agent deployer/);
    const ok = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id.slice(0, 24),
      '--as',
      'alice',
      '--note',
      'checked the diff',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^granted apr_/);
    expect((await runCli(['--config', file, 'approvals', 'list', '--all', '--json'])).stdout).toContain(
      '"status":"granted"',
    );
    expect(
      (
        await w
          .session({ agent: 'deployer' })
          .authorize({ tool: 'deploy', args: { repoId: 'acme/web', env: 'staging' } })
      ).verdict,
    ).toBe('allow');
    expect((await runCli(['--config', file, 'approvals', 'show', id])).stdout).toMatch(/Status\s+CONSUMED/);
  });

  it('denies with a reason, and refuses unknown ids and missing options clearly', async () => {
    const { file, id } = await withRequest({ tool: 'deploy', args: { repoId: 'acme/web', env: 'staging' } });
    expect((await runCli(['--config', file, 'approvals', 'deny', id, '--as', 'bob'])).code).toBe(2);
    const denied = await runCli([
      '--config',
      file,
      'approvals',
      'deny',
      id,
      '--as',
      'bob',
      '--reason',
      'wrong repo',
    ]);
    expect(denied).toMatchObject({ code: 0 });
    expect(denied.stdout).toMatch(/denied .*: wrong repo/);
    const again = await runCli(['--config', file, 'approvals', 'approve', id, '--as', 'alice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is denied/);
    const unknown = await runCli(['--config', file, 'approvals', 'show', 'apr_does_not_exist']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no approval request/);
    expect((await runCli(['--config', file, 'approvals', 'list', '--status', 'weird'])).code).toBe(2);
  });
});

describe('warden phase', () => {
  it('explains what an agent may do now and refuses an early promotion with what is missing', async () => {
    const { file } = project(ACTIONS_CONFIG);
    const show = await runCli(['--config', file, 'phase', 'show', 'deployer']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/deployer \(owner olivia\) is Junior \(from warden\.yaml\)/);
    expect(show.stdout).toMatch(/deploy\s+irreversible\s+needs approval \(Junior\); grants: deploy-acme/);
    expect(show.stdout).toMatch(/read_file\s+read\s+runs/);
    expect(show.stdout).toMatch(/Promotion to Senior: not yet/);
    const promote = await runCli([
      '--config',
      file,
      'phase',
      'promote',
      'intern-bot',
      '--to',
      'junior',
      '--signoff',
      'alice',
    ]);
    expect(promote.code).toBe(1);
    expect(promote.stdout).toMatch(/promotion of intern-bot to Junior refused; missing:\n\s+- time-at-phase/);
    expect(
      (
        await runCli([
          '--config',
          file,
          'phase',
          'promote',
          'intern-bot',
          '--to',
          'boss',
          '--signoff',
          'alice',
        ])
      ).code,
    ).toBe(2);
    const demote = await runCli([
      '--config',
      file,
      'phase',
      'demote',
      'senior-bot',
      '--to',
      'junior',
      '--by',
      'alice',
      '--reason',
      'review',
    ]);
    expect(demote).toMatchObject({ code: 0, stdout: 'senior-bot demoted from Senior to Junior\n' });
    expect((await runCli(['--config', file, 'phase', 'show', 'senior-bot'])).stdout).toMatch(
      /is Junior \(recorded; warden\.yaml says Senior\)/,
    );
    expect((await runCli(['--config', file, 'phase', 'show', 'ghost'])).code).toBe(1);
  });
});

describe('warden validate', () => {
  it('warns about policies that load but probably say something else, and names the Cedar line that does not parse', async () => {
    const { file } = project(
      ACTIONS_CONFIG.replace(
        '  - { id: intern-bot, owner: ian, phase: intern }',
        '  - { id: intern-bot, owner: ian, phase: intern, grants: [{ tool: write_file }, { tool: write_file, effect: deny }] }',
      ),
    );
    const v = await runCli(['validate', file]);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/warning: agents\[3\] \(senior-bot\) declares no `grants:`/);
    expect(v.stderr).toMatch(/deny wins, so the allow grant never applies/);
    const bad = project(
      `${ACTIONS_CONFIG}actions:\n  cedar:\n    policies: |\n      permit(principal, action, resource);\n      forbid(principal, action, resource) when { context.x = 1 };\n`,
    );
    const c = await runCli(['validate', bad.file]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/actions\.cedar\.policies line 2, column \d+: '=' is not a valid operator/);
    const principal = project(
      `version: 1\nagents:\n  - { id: p, owner: o, phase: principal, grants: [] }\napprovals:\n  approvers: [{ name: a }]\n  rules: [{ name: r, roles: [nobody] }]\n`,
    );
    const pw = await runCli(['validate', principal.file]);
    expect(pw.stderr).toMatch(/p is a Principal without caps/);
    expect(pw.stderr).toMatch(/r needs role nobody, which no approver holds/);
  });
});
