import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import {
  envelopeShapeProblem,
  signMessage,
  verifySignature,
  type MessageEnvelope,
} from '../../src/observe/messages/envelope.js';
import {
  generateAgentKeyPair,
  parsePublicKey,
  publicKeyFingerprint,
} from '../../src/observe/messages/keys.js';
import { createWarden, type Warden } from '../../src/warden.js';
import type { Store } from '../../src/store/store.js';
import { tempSqliteStore } from '../helpers/warden.js';
import { configFile, runCli } from '../helpers/cli.js';
import { FakeClock, observeWarden } from './helpers.js';
import { ObserveExtension } from '../../src/observe/extension.js';

const planner = generateAgentKeyPair();
const worker = generateAgentKeyPair();
const reviewer = generateAgentKeyPair();
const impostor = generateAgentKeyPair();

function config(extra = ''): string {
  return `version: 1
agents:
  - { id: planner, owner: ops, phase: senior, publicKey: ${planner.publicKey} }
  - { id: worker, owner: ops, phase: senior, publicKey: ${worker.publicKey} }
  - { id: reviewer, owner: ops, phase: senior, publicKey: ${reviewer.publicKey} }
  - { id: keyless, owner: ops, phase: senior }
tools:
  - { name: search, class: read }
  - { name: write_file, class: write }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
observe:
  edges:
    - { from: planner, to: worker }
    - { from: worker, to: planner }
    - { from: keyless, to: worker }
    - { from: '*', to: reviewer }
${extra}`;
}

let open: { warden: Warden; store: Store }[] = [];
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
});

async function make(text = config(), clock = new FakeClock(), store?: Store) {
  const w = await observeWarden(text, { clock, ...(store ? { store } : {}) });
  open.push(w);
  return { ...w, clock };
}

describe('signed envelopes', () => {
  it('signs and verifies, and rejects a tampered envelope', () => {
    const m = signMessage(planner.privateKeyPem, { from: 'planner', to: 'worker', payload: 'build #12' });
    expect(envelopeShapeProblem(m.envelope)).toBeUndefined();
    expect(verifySignature(m.envelope, parsePublicKey(planner.publicKey))).toBe(true);
    expect(verifySignature(m.envelope, parsePublicKey(worker.publicKey))).toBe(false);
    expect(verifySignature({ ...m.envelope, to: 'reviewer' }, parsePublicKey(planner.publicKey))).toBe(false);
    expect(envelopeShapeProblem({ ...m.envelope, v: 2 })).toMatch(/version/);
    expect(envelopeShapeProblem('x')).toMatch(/not an object/);
    expect(publicKeyFingerprint(planner.publicKey)).toBe(planner.fingerprint);
  });
});

describe('the message stage', () => {
  it('accepts a fresh signed message along an allowed edge as tier 2 and raises the session taint', async () => {
    const { warden, clock } = await make();
    const s = warden.session({ agent: 'worker' });
    const d = await s.message(
      signMessage(planner.privateKeyPem, {
        from: 'planner',
        to: 'worker',
        payload: 'run the tests',
        ts: clock.now(),
      }),
    );
    expect(d.verdict).toBe('allow');
    expect(d.tier).toBe(2);
    expect(s.state.taint).toBe(2);
  });

  const refusals: [
    string,
    (clock: FakeClock) => Parameters<ReturnType<Warden['session']>['message']>[0],
    RegExp,
  ][] = [
    [
      'forged (signed with another key)',
      (c) =>
        signMessage(impostor.privateKeyPem, { from: 'planner', to: 'worker', payload: 'x', ts: c.now() }),
      /does not verify/,
    ],
    [
      'altered payload',
      (c) => ({
        ...signMessage(planner.privateKeyPem, { from: 'planner', to: 'worker', payload: 'x', ts: c.now() }),
        payload: 'rm -rf /',
      }),
      /does not match the signed digest/,
    ],
    [
      'expired',
      (c) =>
        signMessage(planner.privateKeyPem, {
          from: 'planner',
          to: 'worker',
          payload: 'x',
          ts: c.now() - 301_000,
        }),
      /old .*expired/,
    ],
    [
      'from the future',
      (c) =>
        signMessage(planner.privateKeyPem, {
          from: 'planner',
          to: 'worker',
          payload: 'x',
          ts: c.now() + 60_000,
        }),
      /in the future/,
    ],
    [
      'mis-addressed',
      (c) =>
        signMessage(planner.privateKeyPem, { from: 'planner', to: 'reviewer', payload: 'x', ts: c.now() }),
      /addressed to reviewer was delivered to worker/,
    ],
    [
      'envelope naming someone else',
      (c) => ({
        ...signMessage(planner.privateKeyPem, { from: 'planner', to: 'reviewer', payload: 'x', ts: c.now() }),
        to: 'worker',
      }),
      /envelope names a different/,
    ],
    ['unsigned', () => ({ from: 'planner', to: 'worker', payload: 'x' }), /not signed/],
    [
      'from an unknown agent',
      (c) => signMessage(impostor.privateKeyPem, { from: 'ghost', to: 'worker', payload: 'x', ts: c.now() }),
      /not a configured agent/,
    ],
    [
      'from an agent without a key',
      (c) =>
        signMessage(impostor.privateKeyPem, { from: 'keyless', to: 'worker', payload: 'x', ts: c.now() }),
      /no publicKey/,
    ],
    [
      'with a garbage envelope',
      () => ({ from: 'planner', to: 'worker', payload: 'x', envelope: { v: 1, alg: 'rsa' } }),
      /bad envelope/,
    ],
  ];
  for (const [what, build, why] of refusals) {
    it(`denies a message ${what}`, async () => {
      const { warden, clock } = await make();
      const s = warden.session({ agent: 'worker' });
      const d = await s.message(build(clock));
      expect(d.verdict).toBe('deny');
      expect(d.reasons[0]).toMatchObject({ control: 'agent-message', risk: 'ASI07', domain: 6 });
      expect(d.reasons[0]!.message).toMatch(why);
      expect(s.state.taint).toBe(1);
    });
  }

  it('denies a message along an edge that is not in observe.edges', async () => {
    const { warden, clock } = await make();
    const d = await warden.session({ agent: 'planner' }).message(
      signMessage(reviewer.privateKeyPem, {
        from: 'reviewer',
        to: 'planner',
        payload: 'x',
        ts: clock.now(),
      }),
    );
    expect(d.reasons[0]!.message).toMatch(/reviewer may not message planner: no such edge/);
    // The wildcard edge lets anyone message the reviewer.
    const ok = await warden
      .session({ agent: 'reviewer' })
      .message(
        signMessage(worker.privateKeyPem, { from: 'worker', to: 'reviewer', payload: 'x', ts: clock.now() }),
      );
    expect(ok.verdict).toBe('allow');
  });

  it('denies a replayed message, in this process and after a restart on the same store', async () => {
    const store = await tempSqliteStore();
    const clock = new FakeClock();
    const first = await make(config(), clock, store);
    const m = signMessage(planner.privateKeyPem, {
      from: 'planner',
      to: 'worker',
      payload: 'pay invoice 7',
      ts: clock.now(),
    });
    const s = first.warden.session({ agent: 'worker' });
    expect((await s.message(m)).verdict).toBe('allow');
    const again = await s.message(m);
    expect(again.verdict).toBe('deny');
    expect(again.reasons[0]!.message).toMatch(/already used: a replayed message/);
    await first.warden.close();
    open = open.filter((o) => o.warden !== first.warden);
    // A new Warden has an empty memory; the store remembers the nonce for the freshness window.
    const ext = new ObserveExtension();
    const second = await createWarden({ config: parseConfig(config()), store, clock, extensions: [ext] });
    open.push({ warden: second, store });
    const d = await second.session({ agent: 'worker' }).message(m);
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]!.message).toMatch(/replayed/);
  });

  it('fails closed when the replay check cannot reach the store, and accepts the retry once it is back', async () => {
    const inner = await tempSqliteStore();
    let failing = false;
    const store = Object.create(inner) as Store;
    store.putDoc = (collection, id, body, expected) =>
      failing && collection === 'message_nonces'
        ? Promise.reject(new Error('store down'))
        : inner.putDoc(collection, id, body, expected);
    const { warden, clock } = await make(config(), new FakeClock(), store);
    const s = warden.session({ agent: 'worker' });
    const m = signMessage(planner.privateKeyPem, {
      from: 'planner',
      to: 'worker',
      payload: 'x',
      ts: clock.now(),
    });
    failing = true;
    const d = await s.message(m);
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]!.message).toMatch(/replay check could not run .*store down.*fails closed/);
    failing = false;
    expect((await s.message(m)).verdict).toBe('allow');
  });

  it("labels a quarantined or tainted sender's output tier 3 and taints the receiver", async () => {
    const { warden, observe, clock } = await make();
    await observe.quarantine('planner', { reason: 'investigating', by: 'sec' });
    const s = warden.session({ agent: 'worker' });
    const d = await s.message(
      signMessage(planner.privateKeyPem, { from: 'planner', to: 'worker', payload: 'x', ts: clock.now() }),
    );
    expect(d.verdict).toBe('allow');
    expect(d.tier).toBe(3);
    expect(s.state.taint).toBe(3);
    // The worker's session is now tainted, so what it sends on is tier 3 for its peers too.
    const p = warden.session({ agent: 'planner' });
    const back = await p.message(
      signMessage(worker.privateKeyPem, { from: 'worker', to: 'planner', payload: 'y', ts: clock.now() }),
    );
    expect(back.tier).toBe(3);
  });

  it('lets unsigned messages through as tier 2 only when requireSignature is off', async () => {
    const { warden } = await make(config('  messages: { requireSignature: false }\n'));
    const d = await warden
      .session({ agent: 'worker' })
      .message({ from: 'keyless', to: 'worker', payload: 'hello' });
    expect(d.verdict).toBe('allow');
    expect(d.tier).toBe(2);
  });

  it('records the communication graph in the inventory', async () => {
    const { warden, store, observe, clock } = await make();
    await warden
      .session({ agent: 'worker' })
      .message(
        signMessage(planner.privateKeyPem, { from: 'planner', to: 'worker', payload: 'a', ts: clock.now() }),
      );
    await warden
      .session({ agent: 'worker' })
      .message(
        signMessage(impostor.privateKeyPem, { from: 'planner', to: 'worker', payload: 'b', ts: clock.now() }),
      );
    await observe.flush();
    const w = (await store.getDoc<{ peers: Record<string, { received: number }> }>('inventory', 'worker'))!
      .body;
    const p = (await store.getDoc<{ peers: Record<string, { sent: number }> }>('inventory', 'planner'))!.body;
    // Only the verified message counts.
    expect(w.peers.planner).toMatchObject({ received: 1 });
    expect(p.peers.worker).toMatchObject({ sent: 1 });
  });

  it('refuses to start with a public key that is not Ed25519', async () => {
    const store = await tempSqliteStore();
    const bad = config().replace(`publicKey: ${reviewer.publicKey}`, 'publicKey: bm90IGEga2V5');
    await expect(
      createWarden({ config: parseConfig(bad), store, extensions: [new ObserveExtension()] }),
    ).rejects.toThrow(ConfigError);
    await store.close();
  });
});

describe('warden keys generate', () => {
  it('writes the private key with mode 0600 and prints the public key for warden.yaml', async () => {
    const dir = join(configFile('version: 1\n'), '..');
    const out = join(dir, 'keys', 'planner.key');
    const r = await runCli(['keys', 'generate', 'planner', '--out', out]);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const pub = /publicKey: (\S+)/.exec(r.stdout)?.[1];
    expect(pub).toBeDefined();
    const pem = readFileSync(out, 'utf8');
    // The pair works: a message signed with the file verifies with the printed key.
    const m = signMessage(pem, { from: 'planner', to: 'worker', payload: 'x' });
    expect(verifySignature(m.envelope as MessageEnvelope, parsePublicKey(pub!))).toBe(true);
    expect(r.stdout).not.toContain('PRIVATE KEY');
    const again = await runCli(['keys', 'generate', 'planner', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);
  });
});
