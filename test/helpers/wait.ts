/**
 * Waiting helpers for tests that watch something happen in the background (another replica, a poller, a
 * spawned process). The deadline is a hang guard, not a speed assertion: it is long enough that a loaded
 * 2-core CI machine never trips it, and shorter than the unit test timeout (60 s) so a real hang fails with
 * a message that says what never happened. Speed belongs to `npm run bench`.
 */

/** The default deadline of `until`. */
export const UNTIL_DEFAULT_MS = 10_000;

/**
 * Polls `cond` until it holds; rejects with `what` once `timeoutMs` has passed. `cond` may be async (e.g. a
 * store read). Each poll waits `everyMs` first, so timers and I/O of the code under test get their turn.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? UNTIL_DEFAULT_MS;
  const everyMs = options.everyMs ?? 10;
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * CPU time (user + system, in ms) this process spends running `work`. Tests that guard against blow-ups
 * (catastrophic regex backtracking, exponential expansion) bound this rather than wall time: wall time grows
 * with every other process competing for the cores, CPU time only with the work done. Vitest's default
 * `forks` pool runs each test file in its own process, so other files do not count.
 */
export function cpuMs(work: () => unknown): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}
