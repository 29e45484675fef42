import { describe, expect, it } from 'vitest';
import {
  approvalKey,
  boundCall,
  callDigest,
  seal,
  verifySeal,
  type ApprovalRequest,
} from '../../src/actions/approvals/digest.js';
import { WardenError } from '../../src/core/errors.js';
import type { ApprovalWaiter } from '../../src/session.js';
import { tempSqliteStore } from '../helpers/warden.js';
import { actionsWarden } from './helpers.js';

describe('approval binding and sealing', () => {
  it('binds to agent, tool, server and canonical arguments, whatever the key order', () => {
    const a = boundCall({
      kind: 'tool.call',
      actor: { agent: 'x', session: 's' },
      call: { tool: 't', args: { a: 1, b: [1, 2] }, server: 'srv' },
    });
    const b = boundCall({
      kind: 'tool.call',
      actor: { agent: 'x', session: 'other' },
      call: { tool: 't', args: { b: [1, 2], a: 1 }, server: 'srv', rationale: 'different story' },
    });
    expect(callDigest('x', a)).toBe(callDigest('x', b));
    expect(callDigest('y', a)).not.toBe(callDigest('x', a));
    expect(callDigest('x', { ...a, server: undefined })).not.toBe(callDigest('x', a));
    expect(callDigest('x', { ...a, args: { a: 1, b: [2, 1] } })).not.toBe(callDigest('x', a));
  });

  it('detects any edit of a sealed request', () => {
    const key = Buffer.alloc(32, 7);
    const req = seal(
      {
        v: 1,
        id: 'apr_1',
        digest: 'd',
        status: 'pending',
        createdAt: 1,
        expiresAt: 2,
        votes: [],
        args: { x: 1 },
      } as unknown as ApprovalRequest,
      key,
    );
    expect(verifySeal(req, key)).toBe(true);
    expect(verifySeal({ ...req, args: { x: 2 } }, key)).toBe(false);
    expect(verifySeal({ ...req, status: 'granted' }, key)).toBe(false);
    expect(verifySeal({ ...req, expiresAt: 99 }, key)).toBe(false);
    expect(verifySeal(req, Buffer.alloc(32, 8))).toBe(false);
    expect(verifySeal({ ...req, mac: 'zz' }, key)).toBe(false);
    expect(verifySeal(null, key)).toBe(false);
  });

  it('takes the key from the environment when set, refuses a short one, else keeps one in the store', async () => {
    const store = await tempSqliteStore();
    const a = await approvalKey(store, 'WARDEN_TEST_NO_SUCH_KEY');
    const b = await approvalKey(store, 'WARDEN_TEST_NO_SUCH_KEY');
    expect(a.source).toBe('store');
    expect(a.key.equals(b.key)).toBe(true);
    process.env.WARDEN_TEST_APPROVAL_KEY = 'short';
    await expect(approvalKey(store, 'WARDEN_TEST_APPROVAL_KEY')).rejects.toBeInstanceOf(WardenError);
    process.env.WARDEN_TEST_APPROVAL_KEY = 'a-long-enough-secret-for-tests';
    expect((await approvalKey(store, 'WARDEN_TEST_APPROVAL_KEY')).source).toBe('env');
    delete process.env.WARDEN_TEST_APPROVAL_KEY;
    await store.close();
  });

  it('ends waits when Warden closes', async () => {
    const store = await tempSqliteStore();
    const w = await actionsWarden(store);
    const d = await w
      .session({ agent: 'deployer' })
      .authorize({ tool: 'deploy', args: { repoId: 'acme/x', env: 'staging' } });
    const waiting = w.runtime
      .service<ApprovalWaiter>('approvals.wait')!
      .wait(d.approvalId!, { timeoutMs: 60_000 });
    await w.close();
    expect(await waiting).toBe('cancelled');
    await store.close();
  });
});
