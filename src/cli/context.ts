import { resolve } from 'node:path';
import { formatConfigError, loadConfigFile, type LoadedConfig } from '../config/load.js';
import { ConfigError, WardenError } from '../core/errors.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createWarden, type Warden } from '../warden.js';
import { EXIT } from './exit-codes.js';

/** Thrown by commands to end with a message and an exit code, without a stack trace. */
export class CliExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = '') {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Options every command that reads a config accepts. */
export interface ConfigOption {
  config?: string;
}

/** The config file a command uses: `--config`, `WARDEN_CONFIG`, or `./warden.yaml`. */
export function configPathOf(opts: ConfigOption): string {
  return resolve(opts.config ?? process.env.WARDEN_CONFIG ?? 'warden.yaml');
}

/** Loads the config or ends the command with a clear message and exit code 2. */
export function loadConfigOrExit(opts: ConfigOption): LoadedConfig {
  try {
    return loadConfigFile(configPathOf(opts));
  } catch (error) {
    throw toCliExit(error);
  }
}

/** Opens the store the config names. */
export async function openConfiguredStore(loaded: LoadedConfig): Promise<Store> {
  try {
    const store = await openStore({
      url: process.env.WARDEN_DATABASE_URL ?? loaded.config.store.url,
      path: resolve(loaded.baseDir, loaded.config.store.path),
      synchronous: loaded.config.store.synchronous,
    });
    await store.migrate();
    return store;
  } catch (error) {
    throw toCliExit(error);
  }
}

/** Creates a Warden for a command from the configured file. */
export async function wardenFor(opts: ConfigOption): Promise<Warden> {
  try {
    return await createWarden({ configPath: configPathOf(opts) });
  } catch (error) {
    throw toCliExit(error);
  }
}

/**
 * The `--reason` of a command that changes who may act (kill, release, quarantine, ...): required, because
 * it is recorded in the ledger with who did it. Ends with a usage error when it is missing or blank.
 */
export function requireReason(opts: { reason?: string }, verb: string): string {
  const r = opts.reason?.trim();
  if (!r)
    throw new CliExit(
      EXIT.usage,
      `${verb} needs --reason TEXT: it is recorded in the ledger with who did it`,
    );
  return r;
}

/** Maps an error to an exit with a message a person can act on. */
export function toCliExit(error: unknown): CliExit {
  if (error instanceof CliExit) return error;
  if (error instanceof ConfigError) return new CliExit(EXIT.usage, formatConfigError(error));
  if (error instanceof WardenError) {
    const code =
      error.code === 'STORE_UNAVAILABLE' || error.code === 'STORE_CORRUPT'
        ? EXIT.unavailable
        : error.code === 'INTERNAL'
          ? EXIT.internal
          : EXIT.usage;
    return new CliExit(code, `${error.message}${error.hint ? `\nhint: ${error.hint}` : ''} [${error.code}]`);
  }
  return new CliExit(
    EXIT.internal,
    `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
}
