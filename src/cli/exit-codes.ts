/** Exit codes every `warden` command uses, so CI scripts can tell failures apart. */
export const EXIT = {
  /** Success; the check passed. */
  ok: 0,
  /** The command ran and its answer is "no" (a check failed, a chain is broken, a cap was exceeded). */
  failed: 1,
  /** Bad usage or an invalid configuration. */
  usage: 2,
  /** The store or another dependency could not be reached. */
  unavailable: 3,
  /** A bug in Warden. */
  internal: 70,
} as const;
