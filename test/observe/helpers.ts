import type { Extension } from '../../src/pipeline/runtime.js';
import { ObserveExtension } from '../../src/observe/extension.js';
import { OBSERVE_SERVICE, type ObserveService } from '../../src/observe/service.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { testWarden } from '../helpers/warden.js';

/** A policy with tools for every observe scenario. */
export const OBSERVE_CONFIG = `version: 1
agents:
  - { id: deployer, owner: platform, phase: senior }
  - { id: commenter, owner: growth, phase: senior }
  - { id: support, owner: cx, phase: senior }
  - { id: planner, owner: ops, phase: senior }
  - { id: worker, owner: ops, phase: senior }
  - { id: reviewer, owner: ops, phase: senior }
tools:
  - { name: list_repos, class: read, authoritative: true }
  - { name: search, class: read }
  - { name: read_customer, class: read, sensitive: true }
  - { name: deploy, class: irreversible, identifiers: [repoId] }
  - { name: post_comment, class: write, outbound: true }
  - { name: send_email, class: write, outbound: true }
  - { name: write_file, class: write }
  - { name: rare_tool, class: read }
sources:
  - { name: web, tier: 3 }
  - { name: wiki, tier: 2 }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
      - { memory: '*' }
`;

/** A fake clock tests move by hand. */
export class FakeClock {
  t = Date.UTC(2026, 2, 1, 12, 0, 0);
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * A stand-in for the actions module's approvals service: every approval request stays pending, so a stage's
 * `needApproval` shows up as the verdict `approve` (without any service the core would deny instead).
 */
export function pendingApprovals(): Extension {
  let n = 0;
  return {
    name: 'test-approvals',
    setup(runtime) {
      runtime.provide('approvals', {
        resolve: () => Promise.resolve({ approvalId: `ap-${++n}`, granted: false }),
      });
      return [];
    },
  };
}

/** A Warden with only the observe module (and pending approvals), isolated from other modules being built. */
export async function observeWarden(
  config: string = OBSERVE_CONFIG,
  options: { clock?: FakeClock; store?: Store; approvals?: boolean } = {},
): Promise<{ warden: Warden; store: Store; observe: ObserveService; ext: ObserveExtension }> {
  const ext = new ObserveExtension();
  const extensions: Extension[] = [ext];
  if (options.approvals !== false) extensions.push(pendingApprovals());
  const { warden, store } = await testWarden(config, {
    extensions,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.store ? { store: options.store } : {}),
  });
  const observe = warden.runtime.service<ObserveService>(OBSERVE_SERVICE);
  if (!observe) throw new Error('observe service missing');
  return { warden, store, observe, ext };
}

/** Adds an `observe:` section (YAML text, indented by the caller) to the base config. */
export function withObserve(section: string, base: string = OBSERVE_CONFIG): string {
  return `${base}observe:\n${section}`;
}
