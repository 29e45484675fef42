import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { maturityWarnings } from '../../src/maturity/lint.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';

const key = generateAgentKeyPair().publicKey;

function config(approvers: string, promotion: string): string {
  return `version: 1
agents:
  - { id: rookie, owner: olivia, phase: intern }
approvals:
  approvers:
${approvers}
maturity:
  promotion:
${promotion}
`;
}

const WARNING = /requireSignedSignoff is true, but no approver who may sign off has a publicKey/;

describe('maturity.promotion.requireSignedSignoff', () => {
  it('defaults to false and warns when nobody who may sign off could sign', () => {
    const plain = parseConfig(
      config('    - { name: carol, roles: [security] }', '    signoffRoles: [security]'),
    );
    expect(plain.maturity?.promotion.requireSignedSignoff).toBe(false);
    expect(maturityWarnings(plain)).toEqual([]);

    const keyless = parseConfig(
      config('    - { name: carol, roles: [security] }', '    requireSignedSignoff: true'),
    );
    expect(maturityWarnings(keyless)).toEqual([expect.stringMatching(WARNING)]);

    // A key held by someone outside the sign-off roles does not help.
    const wrongRole = parseConfig(
      config(
        `    - { name: carol, roles: [security] }\n    - { name: dave, roles: [sre], publicKey: ${key} }`,
        '    signoffRoles: [security]\n    requireSignedSignoff: true',
      ),
    );
    expect(maturityWarnings(wrongRole)).toEqual([expect.stringMatching(WARNING)]);

    const ok = parseConfig(
      config(
        `    - { name: carol, roles: [security] }\n    - { name: alice, roles: [security], publicKey: ${key} }`,
        '    signoffRoles: [security]\n    requireSignedSignoff: true',
      ),
    );
    expect(maturityWarnings(ok)).toEqual([]);
  });
});
