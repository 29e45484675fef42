import { afterEach } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ApprovalBroker, Extension } from '../../src/pipeline/runtime.js';
import type { Store } from '../../src/store/store.js';
import { extension as trustExtension } from '../../src/trust/extension.js';
import type { InjectionDetector } from '../../src/trust/injection-stage.js';
import type { TrustService } from '../../src/trust/service.js';
import type { Warden } from '../../src/warden.js';
import { createWarden } from '../../src/warden.js';
import { tempSqliteStore } from '../helpers/warden.js';

/**
 * A config for trust tests. The agent is a Senior with every tool pre-approved, so the phase gate stays out of the
 * way and what is measured is the trust module.
 */
export function trustConfig(extra: { tools?: string; sources?: string; trust?: string } = {}): string {
  return `version: 1
agents:
  - { id: bot, owner: alice, phase: senior }
tools:
  - { name: read_file, class: read }
  - { name: web_fetch, class: read, tier: 3 }
  - { name: list_repos, class: read, authoritative: true }
  - { name: wiki_search, class: read, tier: 2 }
  - { name: deploy, class: irreversible, identifiers: [repoId] }
  - { name: transfer, class: irreversible, identifiers: [iban, amount] }
  - { name: write_note, class: write, sensitive: false }
  - { name: send_message, class: write, outbound: true, identifiers: [to] }
  - { name: post_status, class: write, sensitive: false, outbound: true, identifiers: [] }
  - { name: cloud_api, class: read, credentials: true }
  - { name: inbox, class: read, tier: 3 }
${extra.tools ?? ''}sources:
  - { name: web, tier: 3 }
  - { name: wiki, tier: 2 }
  - { name: email, tier: 3 }
${extra.sources ?? ''}maturity:
  senior:
    preApproved: [{ tool: '*' }]
${extra.trust ? `trust:\n${extra.trust}` : ''}`;
}

/** An approvals stand-in: `approve` stays `approve` (with an id) unless the test granted that tool. */
export function fakeApprovals(granted: Set<string> = new Set()): Extension {
  let n = 0;
  const broker: ApprovalBroker = {
    resolve(ctx) {
      const tool = ctx.event.kind === 'tool.call' ? ctx.event.call.tool : ctx.event.kind;
      const ok = granted.has(tool);
      if (ok) granted.delete(tool);
      return Promise.resolve({ approvalId: `test-${++n}`, granted: ok });
    },
  };
  return {
    name: 'fake-approvals',
    setup(runtime) {
      runtime.provide('approvals', broker);
      return [];
    },
  };
}

/** A Warden with only the trust module (and fake approvals). The caller closes it with `close()`. */
export async function trustWarden(
  config: string = trustConfig(),
  options: { detector?: InjectionDetector; granted?: Set<string> } = {},
): Promise<{ warden: Warden; store: Store; trust: TrustService; close: () => Promise<void> }> {
  const store = await tempSqliteStore();
  const warden = await createWarden({
    config: parseConfig(config),
    store,
    extensions: [
      trustExtension(options.detector ? { detector: options.detector } : {}),
      fakeApprovals(options.granted),
    ],
  });
  const trust = warden.runtime.service<TrustService>('trust');
  if (!trust) throw new Error('trust service missing');
  return {
    warden,
    store,
    trust,
    close: async () => {
      await warden.close();
      await store.close();
    },
  };
}

/**
 * For a test file: registers an afterEach that closes every Warden the test made, and returns `make`, which
 * makes one with `trustWarden`'s arguments. Call it at the top level of the file (or inside a describe).
 */
export function trustWardens(): (...args: Parameters<typeof trustWarden>) => ReturnType<typeof trustWarden> {
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers) await c();
    closers = [];
  });
  return async (...args) => {
    const w = await trustWarden(...args);
    closers.push(w.close);
    return w;
  };
}
