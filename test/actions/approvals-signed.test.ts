import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { signedConfig, signedVotesSuite } from './suites/signed-votes-suite.js';

signedVotesSuite('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-signed-votes-')), 'warden.db');
  return { store: await openSqliteStore({ path }) };
});

function issuesOf(config: string): { path: string; message: string }[] {
  try {
    parseConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('approver keys in warden.yaml', () => {
  const alice = generateAgentKeyPair();
  const bob = generateAgentKeyPair();

  it('loads declared keys; signed votes are off by default and last 5 minutes', () => {
    const config = parseConfig(signedConfig({ alice }));
    expect(config.approvals?.approvers.find((a) => a.name === 'alice')?.publicKey).toBe(alice.publicKey);
    expect(config.approvals).toMatchObject({ requireSignedVotes: false, signedVoteMaxAge: 300_000 });
    // PEM works too.
    const pem = `-----BEGIN PUBLIC KEY-----\n${alice.publicKey}\n-----END PUBLIC KEY-----`;
    expect(() =>
      parseConfig(
        signedConfig({}).replace(
          '{ name: alice, roles: [sre] }',
          `{ name: alice, roles: [sre], publicKey: ${JSON.stringify(pem)} }`,
        ),
      ),
    ).not.toThrow();
  });

  it('refuses a key that is not an Ed25519 public key, naming the path, the problem and the fix', () => {
    const bad = signedConfig({}).replace(
      '{ name: alice, roles: [sre] }',
      '{ name: alice, roles: [sre], publicKey: "not-a-key" }',
    );
    expect(issuesOf(bad)).toEqual([
      {
        path: 'approvals.approvers[0].publicKey',
        message: expect.stringMatching(
          /alice's publicKey is not usable \(the public key is neither base64 SPKI DER nor PEM\); paste the publicKey printed by `warden keys generate alice --approver`/,
        ),
      },
    ]);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    expect(
      issuesOf(
        signedConfig({}).replace(
          '{ name: alice, roles: [sre] }',
          `{ name: alice, roles: [sre], publicKey: "${rsa}" }`,
        ),
      )[0]?.message,
    ).toMatch(/is rsa, not ed25519/);
  });

  it('refuses one key shared by two approvers (it would count twice towards a quorum)', () => {
    expect(issuesOf(signedConfig({ alice, bob: alice }))).toEqual([
      {
        path: 'approvals.approvers[1].publicKey',
        message: expect.stringMatching(/bob has the same publicKey as alice/),
      },
    ]);
  });

  it('with requireSignedVotes, refuses approvers without a key, and an empty approver list', () => {
    const issues = issuesOf(signedConfig({ alice, bob }, '  requireSignedVotes: true\n'));
    expect(issues).toEqual([
      {
        path: 'approvals.approvers[2].publicKey',
        message: expect.stringMatching(
          /olivia has no publicKey, but approvals.requireSignedVotes is true; add the publicKey printed by `warden keys generate olivia --approver`/,
        ),
      },
      { path: 'approvals.approvers[3].publicKey', message: expect.stringMatching(/^sam has no publicKey/) },
    ]);
    expect(
      issuesOf('version: 1\nagents: [{ id: a, owner: o }]\napprovals:\n  requireSignedVotes: true\n'),
    ).toEqual([
      {
        path: 'approvals.requireSignedVotes',
        message: expect.stringMatching(/approvals.approvers is empty/),
      },
    ]);
    expect(
      issuesOf(
        signedConfig(
          { alice, bob, olivia: generateAgentKeyPair(), sam: generateAgentKeyPair() },
          '  requireSignedVotes: true\n',
        ),
      ),
    ).toEqual([]);
  });
});
