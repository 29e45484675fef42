import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ACTIONS_CONFIG, actionsWarden } from '../actions/helpers.js';
import { runCli } from '../helpers/cli.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A project whose approver alice got her key from `warden keys generate alice --approver`. */
async function project() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-signed-'));
  const aliceKey = join(dir, 'keys', 'alice.pem');
  const gen = await runCli(['keys', 'generate', 'alice', '--approver', '--out', aliceKey]);
  expect(gen.code).toBe(0);
  expect(statSync(aliceKey).mode & 0o777).toBe(0o600);
  const entryLine = gen.stdout.split('\n').find((l) => l.startsWith('- {'));
  const entry = (parse(entryLine!) as [{ name: string; roles: string[]; publicKey: string }])[0];
  expect(entry).toMatchObject({ name: 'alice', roles: [] });
  expect(gen.stdout).toMatch(/^# alice: add under approvals.approvers in warden.yaml/);
  expect(gen.stdout).toContain(`warden approvals approve ID --as alice --key ${aliceKey}`);
  const fingerprint = /# fingerprint (SHA256:\S+);/.exec(gen.stdout)![1]!;

  const bob = generateAgentKeyPair();
  const bobKey = join(dir, 'bob.pem');
  writeFileSync(bobKey, bob.privateKeyPem, { mode: 0o600 });
  const config = ACTIONS_CONFIG.replace(
    '- { name: alice, roles: [sre] }',
    `- { name: alice, roles: [sre], publicKey: ${entry.publicKey} }`,
  ).replace(
    '- { name: bob, roles: [sre, finance] }',
    `- { name: bob, roles: [sre, finance], publicKey: ${bob.publicKey} }`,
  );
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `${config}store:\n  path: warden.db\n`);
  const store = await openSqliteStore({ path: join(dir, 'warden.db') });
  const w = await actionsWarden(store, { config });
  cleanup.push(
    () => store.close(),
    () => w.close(),
  );
  const request = async (repoId: string) =>
    (await w.session({ agent: 'deployer' }).authorize({ tool: 'deploy', args: { repoId, env: 'staging' } }))
      .approvalId!;
  return { dir, file, aliceKey, bobKey, fingerprint, bob, store, w, request };
}

describe('warden keys generate --approver', () => {
  it('prints JSON naming the approver', async () => {
    const out = await runCli(['keys', 'generate', 'carol', '--approver', '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      approver: 'carol',
      publicKey: expect.stringMatching(/^MCowBQYDK2VwAyEA/),
      fingerprint: expect.stringMatching(/^SHA256:/),
      privateKeyPem: expect.stringMatching(/BEGIN PRIVATE KEY/),
    });
  });
});

describe('warden approvals with signed votes', () => {
  it('signs with --key or WARDEN_APPROVER_KEY_FILE, and says what to do when the key is missing or wrong', async () => {
    const { file, aliceKey, bobKey, fingerprint, bob, store, w, request } = await project();
    const id = await request('acme/web');

    const unsigned = await runCli(['--config', file, 'approvals', 'approve', id, '--as', 'alice']);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(
      /alice has a publicKey in approvals.approvers, so their vote must be signed/,
    );
    expect(unsigned.stderr).toContain(
      "hint: alice has a publicKey in warden.yaml: pass --key FILE (alice's private key) or set WARDEN_APPROVER_KEY_FILE",
    );

    const wrong = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id,
      '--as',
      'alice',
      '--key',
      bobKey,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/does not verify with alice's key/);
    expect(wrong.stderr).toContain(
      `hint: ${bobKey} holds the key ${bob.fingerprint}, but alice's publicKey in warden.yaml is ${fingerprint}: sign with alice's own key`,
    );

    const missing = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id,
      '--as',
      'alice',
      '--key',
      `${aliceKey}.nope`,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the approver key file .*alice\.pem\.nope \(ENOENT\)/);
    const notKey = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id,
      '--as',
      'alice',
      '--key',
      file,
    ]);
    expect(notKey.code).toBe(2);
    expect(notKey.stderr).toMatch(/is not an Ed25519 private key/);

    const samWithKey = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id,
      '--as',
      'sam',
      '--key',
      aliceKey,
    ]);
    expect(samWithKey.code).toBe(1);
    expect(samWithKey.stderr).toContain(
      'hint: sam has no publicKey in approvals.approvers: add the line printed by `warden keys generate sam --approver`, or approve without --key',
    );

    // Nothing above changed the request; every refusal is in the ledger.
    expect((await runCli(['--config', file, 'approvals', 'show', id])).stdout).toMatch(
      /Status\s+PENDING\s+\(0 of 1/,
    );

    vi.stubEnv('WARDEN_APPROVER_KEY_FILE', aliceKey);
    const ok = await runCli([
      '--config',
      file,
      'approvals',
      'approve',
      id.slice(0, 24),
      '--as',
      'alice',
      '--note',
      'diff read',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^granted apr_/);
    expect(ok.stdout).toContain(`signed by alice (${fingerprint}) at `);
    vi.unstubAllEnvs();

    const shown = await runCli(['--config', file, 'approvals', 'show', id]);
    expect(shown.stdout).toMatch(
      new RegExp(
        `Vote +alice approved at \\S+: diff read\\n +signed by alice \\(${fingerprint.replace(/[+/]/g, '\\$&')}\\) at `,
      ),
    );

    await w.runtime.ledger.flush();
    const refused = await store.readLedger({ type: 'approval.refused' });
    expect(refused).toHaveLength(3);
  });

  it('signs denies and cancels, and shows unsigned votes as unsigned', async () => {
    const { file, aliceKey, bobKey, fingerprint, bob, request } = await project();
    const a = await request('acme/a');
    const denied = await runCli([
      '--config',
      file,
      'approvals',
      'deny',
      a,
      '--as',
      'bob',
      '--reason',
      'wrong repo',
      '--key',
      bobKey,
    ]);
    expect(denied.code).toBe(0);
    expect(denied.stdout).toMatch(/^denied .*: wrong repo\nsigned by bob \(SHA256:/);
    expect((await runCli(['--config', file, 'approvals', 'show', a])).stdout).toContain(
      `signed by bob (${bob.fingerprint})`,
    );

    const b = await request('acme/b');
    const cancelled = await runCli([
      '--config',
      file,
      'approvals',
      'cancel',
      b,
      '--as',
      'alice',
      '--reason',
      'superseded',
      '--key',
      aliceKey,
    ]);
    expect(cancelled.code).toBe(0);
    const shownB = await runCli(['--config', file, 'approvals', 'show', b]);
    expect(shownB.stdout).toMatch(
      new RegExp(`Cancel +by alice, signed by alice \\(${fingerprint.replace(/[+/]/g, '\\$&')}\\)`),
    );

    const c = await request('acme/c');
    expect((await runCli(['--config', file, 'approvals', 'approve', c, '--as', 'sam'])).code).toBe(0);
    expect((await runCli(['--config', file, 'approvals', 'show', c])).stdout).toMatch(
      /Vote +sam approved at \S+\n +unsigned\n/,
    );
  });
});
