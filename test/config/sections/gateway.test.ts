import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/core/errors.js';
import { gatewayDefaults, gatewaySectionSchema } from '../../../src/config/sections/gateway.js';

const base = `version: 1
agents:
  - { id: a, owner: me }
`;

describe('gateway section', () => {
  it('has safe defaults', () => {
    expect(gatewayDefaults()).toMatchObject({
      namespace: 'auto',
      unknownTools: 'hide',
      poisoned: 'hide',
      pinning: 'first-use',
      maxMessageBytes: 4 * 1024 * 1024,
    });
  });

  it('accepts stdio and HTTP servers with credentials from the environment or the store', () => {
    const c = parseConfig(`${base}gateway:
  agent: a
  servers:
    - { name: github, command: npx, args: [-y, some-server], env: { GITHUB_TOKEN: { fromEnv: GITHUB_TOKEN } } }
    - { name: remote, url: 'https://mcp.example.com/mcp', headers: { Authorization: { fromStore: remote-token, prefix: 'Bearer ' } }, tier: 2 }
`);
    expect(c.gateway?.servers.map((s) => s.name)).toEqual(['github', 'remote']);
  });

  it('refuses ambiguous or unsafe servers with the path of the problem', () => {
    const bad = [
      { servers: [{ name: 'x' }] },
      { servers: [{ name: 'x', command: 'a', url: 'http://b' }] },
      { servers: [{ name: 'a__b', command: 'a' }] },
      { servers: [{ name: 'x', url: 'file:///etc/passwd' }] },
      {
        servers: [
          { name: 'x', command: 'a' },
          { name: 'x', command: 'b' },
        ],
      },
      { servers: [{ name: 'x', command: 'a', env: { 'BAD-NAME': 'v' } }] },
      { maxMessageBytes: 10 },
    ];
    for (const b of bad) expect(gatewaySectionSchema.safeParse(b).success).toBe(false);
    expect(() => parseConfig(`${base}gateway:\n  servers: [{ name: x }]\n`)).toThrow(ConfigError);
  });
});
