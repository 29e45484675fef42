import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { actionsWarden, ManualClock } from '../actions/helpers.js';
import { runCli } from '../helpers/cli.js';

const DAY = 86_400_000;

afterEach(() => {
  vi.unstubAllEnvs();
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A project whose agents acted 15 days ago (so their time at phase is enough), where alice and bob sign
 * off with keys and carol is a name only.
 */
async function project() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-phase-signed-'));
  const alice = generateAgentKeyPair();
  const bob = generateAgentKeyPair();
  const aliceKey = join(dir, 'alice.pem');
  const bobKey = join(dir, 'bob.pem');
  writeFileSync(aliceKey, alice.privateKeyPem, { mode: 0o600 });
  writeFileSync(bobKey, bob.privateKeyPem, { mode: 0o600 });
  const config = `version: 1
agents:
  - { id: rookie, owner: olivia, phase: intern }
  - { id: helper, owner: olivia, phase: junior }
tools:
  - { name: read_file, class: read }
approvals:
  approvers:
    - { name: alice, roles: [security], publicKey: ${alice.publicKey} }
    - { name: bob, roles: [security], publicKey: ${bob.publicKey} }
    - { name: carol, roles: [security] }
maturity:
  promotion:
    minDays: { intern: 14, junior: 14, senior: 30 }
    signoffRoles: [security]
`;
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `${config}store:\n  path: warden.db\n`);
  const store = await openSqliteStore({ path: join(dir, 'warden.db') });
  const w = await actionsWarden(store, { config, clock: new ManualClock(Date.now() - 15 * DAY) });
  for (const agent of ['rookie', 'helper'])
    await w.session({ agent }).authorize({ tool: 'read_file', args: {} });
  await w.close();
  await store.close();
  const ledger = async (type: string) => {
    const s = await openSqliteStore({ path: join(dir, 'warden.db') });
    try {
      return await s.readLedger({ type });
    } finally {
      await s.close();
    }
  };
  return { file, alice, bob, aliceKey, bobKey, ledger };
}

describe('warden phase promote --key', () => {
  it('refuses an unsigned or wrongly signed sign-off with what to do, then promotes with the signer key', async () => {
    const { file, alice, bob, aliceKey, bobKey, ledger } = await project();
    const promote = (...extra: string[]) =>
      runCli([
        '--config',
        file,
        'phase',
        'promote',
        'rookie',
        '--to',
        'junior',
        '--signoff',
        'alice',
        ...extra,
      ]);

    const unsigned = await promote();
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout).toBe(
      [
        'promotion of rookie to Junior refused; missing:',
        '  - sign-off: alice has a publicKey in approvals.approvers, so the sign-off must be signed, and this one is not',
        "hint: alice has a publicKey in warden.yaml: pass --key FILE (alice's private key) or set WARDEN_APPROVER_KEY_FILE",
        '',
      ].join('\n'),
    );

    const wrong = await promote('--key', bobKey);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(
      /sign-off: the signature on alice's sign-off does not verify with alice's key/,
    );
    expect(wrong.stdout).toContain(
      `hint: ${bobKey} holds the key ${bob.fingerprint}, but alice's publicKey in warden.yaml is ${alice.fingerprint}: sign with alice's own key`,
    );

    const json = JSON.parse((await promote('--key', bobKey, '--json')).stdout) as {
      ok: boolean;
      hint: string;
    };
    expect(json).toMatchObject({ ok: false, hint: expect.stringContaining('sign with alice') });

    const missing = await promote('--key', `${aliceKey}.nope`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the approver key file .*alice\.pem\.nope \(ENOENT\)/);
    const notKey = await promote('--key', file);
    expect(notKey.code).toBe(2);
    expect(notKey.stderr).toMatch(/is not an Ed25519 private key/);

    // Nothing changed so far.
    expect((await runCli(['--config', file, 'phase', 'show', 'rookie'])).stdout).toMatch(
      /^rookie \(owner olivia\) is Intern \(from warden\.yaml\)\n/,
    );
    expect(await ledger('phase.promotion_refused')).toHaveLength(3);

    vi.stubEnv('WARDEN_APPROVER_KEY_FILE', aliceKey);
    const ok = await promote('--note', 'two clean weeks');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^rookie promoted from Intern to Junior\n {2}yes {2}time-at-phase: /);
    expect(ok.stdout).toMatch(
      new RegExp(`\\nsigned off by alice, signed with alice's key ${escape(alice.fingerprint)} at \\S+Z\\n$`),
    );
    vi.unstubAllEnvs();

    const shown = await runCli(['--config', file, 'phase', 'show', 'rookie']);
    expect(shown.stdout).toMatch(
      new RegExp(
        `\\n {2}last promoted Intern -> Junior at \\S+, signed off by alice, signed with alice's key ${escape(alice.fingerprint)} at \\S+\\n`,
      ),
    );
    expect(shown.stdout).toMatch(/Intern -> Junior {2}by alice \(signed\): two clean weeks\n/);
    const [promoted] = await ledger('phase.promoted');
    expect(promoted?.data).toMatchObject({
      signoff: 'alice',
      signed: { fingerprint: alice.fingerprint },
    });
  });

  it('says to add a key, or go without --key, for a signer with no publicKey; shows an unsigned sign-off', async () => {
    const { file, aliceKey } = await project();
    const signed = await runCli([
      '--config',
      file,
      'phase',
      'promote',
      'helper',
      '--to',
      'senior',
      '--signoff',
      'carol',
      '--key',
      aliceKey,
    ]);
    expect(signed.code).toBe(1);
    expect(signed.stdout).toContain(
      'hint: carol has no publicKey in approvals.approvers: add the line printed by `warden keys generate carol --approver`, or promote without --key',
    );
    const plain = await runCli([
      '--config',
      file,
      'phase',
      'promote',
      'helper',
      '--to',
      'senior',
      '--signoff',
      'carol',
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/\nsigned off by carol, unsigned \(a name, no key\)\n$/);
    const shown = await runCli(['--config', file, 'phase', 'show', 'helper', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      phase: 'senior',
      lastPromotion: { from: 'junior', to: 'senior', by: 'carol' },
    });
    expect((await runCli(['--config', file, 'phase', 'show', 'helper'])).stdout).toMatch(
      /last promoted Junior -> Senior at \S+, signed off by carol, unsigned \(a name, no key\)/,
    );
  });
});
