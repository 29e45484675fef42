import { afterEach } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Store } from '../../src/store/store.js';
import type { Approvals } from '../../src/actions/approvals/approvals.js';
import type { ApprovalBrokerService } from '../../src/actions/approvals/broker.js';
import { createWarden, type Warden, type WardenOptions } from '../../src/warden.js';
import { extension as actionsExtension } from '../../src/actions/extension.js';
import { extension as maturityExtension } from '../../src/maturity/extension.js';

/** Only the modules under test, so other modules' gates do not change the outcomes these tests check. */
export function ownExtensions() {
  return [actionsExtension(), maturityExtension()];
}

/** A config exercising grants, Cedar-free least privilege, approval rules and every phase. */
export const ACTIONS_CONFIG = `version: 1
agents:
  - id: deployer
    owner: olivia
    phase: junior
    roles: [deployers]
    grants:
      - { id: deploy-acme, tool: deploy, where: { repoId: "acme/*", env: [staging, prod] }, rate: { count: 3, per: 1h } }
      - { tool: [read_file, list_repos] }
      - { id: no-db, tool: write_file, where: { path: "db/**" }, effect: deny, reason: database files are off limits }
      - { id: src-writes, tool: write_file, where: { path: "src/**" } }
      - { id: small-payments, tool: pay, where: { amount: { max: 500 } } }
  - { id: intern-bot, owner: ian, phase: intern }
  - { id: locked, owner: lee, phase: principal, grants: [] }
  - { id: senior-bot, owner: sam, phase: senior }
  - { id: principal-bot, owner: pat, phase: principal }
tools:
  - { name: read_file, class: read }
  - { name: list_repos, class: read, authoritative: true }
  - { name: write_file, class: write }
  - { name: deploy, class: irreversible }
  - { name: pay, class: irreversible }
approvals:
  approvers:
    - { name: alice, roles: [sre] }
    - { name: bob, roles: [sre, finance] }
    - { name: olivia, roles: [sre, finance] }
    - { name: sam, roles: [sre] }
  rules:
    - { name: payments, tools: [pay], roles: [finance] }
    - { name: prod-deploys, tools: [deploy], where: { env: prod }, quorum: 2, expiresAfter: 30m }
maturity:
  senior:
    preApproved:
      - { tool: write_file, where: { path: "docs/**" } }
      - { memory: "notes/*" }
  principal:
    caps:
      - { name: irreversible-per-hour, classes: [irreversible], count: 2, per: 1h }
      - { name: spend-per-day, tools: [pay], sum: amount, max: 1000, per: 1d }
      - { name: repos-per-day, tools: [deploy], distinct: repoId, max: 2, per: 1d }
`;

/** A clock tests move by hand. */
export class ManualClock {
  t: number;
  constructor(t = Date.UTC(2026, 0, 1)) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A Warden over the given store with the actions config (or another). */
export async function actionsWarden(
  store: Store,
  options: Partial<WardenOptions> & { config?: string } = {},
): Promise<Warden> {
  const { config, ...rest } = options;
  return createWarden({
    config: parseConfig(config ?? ACTIONS_CONFIG),
    store,
    extensions: ownExtensions(),
    ...rest,
  });
}

/** The approvals API and broker of a Warden. */
export function approvalsOf(w: Warden): { api: Approvals; broker: ApprovalBrokerService } {
  const api = w.runtime.service<Approvals>('approvals.api');
  const broker = w.runtime.service<ApprovalBrokerService>('approvals');
  if (!api || !broker) throw new Error('approvals services missing');
  return { api, broker };
}

/** What a suite gets from `suiteWardens`: a Warden on a fresh store, its clock, and replicas on the same database. */
export interface SuiteWarden {
  w: Warden;
  store: Store;
  clock: ManualClock;
  /** Reopens the same database in a second store. */
  reopen: () => Promise<Store>;
  /** A second Warden on the same database and clock, with the given config (default: the first one's). */
  replica: (config?: string) => Promise<Warden>;
}

/**
 * For a suite run over one store backend: registers an afterEach that closes every Warden and store the test
 * opened (last first), and returns `open`, which makes a Warden on a fresh store (or `existing`) with a manual
 * clock. Call it inside the suite's describe.
 */
export function suiteWardens(makeStore: () => Promise<{ store: Store; reopen?: () => Promise<Store> }>): (
  options?: Partial<WardenOptions> & {
    config?: string;
    existing?: { store: Store; reopen: () => Promise<Store> };
  },
) => Promise<SuiteWarden> {
  let toClose: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of toClose.reverse()) await c().catch(() => undefined);
    toClose = [];
  });
  return async (options = {}) => {
    const { existing, ...wardenOptions } = options;
    const { store, reopen = () => Promise.reject(new Error('this suite cannot reopen its store')) } =
      existing ?? (await makeStore());
    const clock = new ManualClock(Date.now());
    const w = await actionsWarden(store, { clock, ...wardenOptions });
    toClose.push(
      () => store.close(),
      () => w.close(),
    );
    const replica = async (config = wardenOptions.config): Promise<Warden> => {
      const s2 = await reopen();
      const w2 = await actionsWarden(s2, { clock, ...(config === undefined ? {} : { config }) });
      toClose.push(
        () => s2.close(),
        () => w2.close(),
      );
      return w2;
    };
    return { w, store, clock, reopen, replica };
  };
}
