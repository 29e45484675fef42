import { describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { resolveValues, SecretStripper } from '../../src/gateway/secrets.js';
import { tempSqliteStore } from '../helpers/warden.js';

describe('upstream credentials', () => {
  it('reads fromEnv and fromStore values, collects them (and the unprefixed form) as secrets, and keeps literals', async () => {
    const store = await tempSqliteStore();
    try {
      await store.putDoc('secrets', 'gh', { value: 'ghp_storedValue123' });
      const secrets = new Set<string>();
      const out = await resolveValues(
        { A: { fromEnv: 'TOKEN_A', prefix: 'Bearer ' }, B: { fromStore: 'gh' }, MODE: 'fast' },
        'gateway.servers.x.env',
        { TOKEN_A: 'env-secret-1' },
        store,
        secrets,
      );
      expect(out).toEqual({ A: 'Bearer env-secret-1', B: 'ghp_storedValue123', MODE: 'fast' });
      expect([...secrets].sort()).toEqual(['Bearer env-secret-1', 'env-secret-1', 'ghp_storedValue123']);
    } finally {
      await store.close();
    }
  });

  it('fails with a hint when a variable or a document is missing', async () => {
    await expect(resolveValues({ A: { fromEnv: 'NOPE' } }, 'here', {}, undefined, new Set())).rejects.toThrow(
      WardenError,
    );
    await expect(resolveValues({ A: { fromEnv: 'NOPE' } }, 'here', {}, undefined, new Set())).rejects.toThrow(
      /NOPE, which is not set/,
    );
    await expect(resolveValues({ A: { fromStore: 'x' } }, 'here', {}, undefined, new Set())).rejects.toThrow(
      /no store/,
    );
  });

  it('strips secrets from nested values, keys included, without copying untouched values', () => {
    const s = new SecretStripper(['s3cret-value']);
    const clean = { a: [{ b: 'nothing here' }] };
    expect(s.value(clean)).toBe(clean);
    expect(s.value({ a: ['x s3cret-value y'], 's3cret-value': 1 })).toEqual({
      a: ['x [REDACTED] y'],
      '[REDACTED]': 1,
    });
    let deep: unknown = 'has s3cret-value';
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(JSON.stringify(s.value(deep))).not.toContain('s3cret-value');
    expect(new SecretStripper(['abc']).active).toBe(false);
  });
});
