import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { vi } from 'vitest';
import { CliExit } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';

/** Runs a `warden` command in this process and returns its exit code and output. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  let code = 0;
  try {
    const program = buildProgram();
    // Every subcommand, so a usage error is an exit code here and never ends the test process.
    const quiet = (c: Command): void => {
      c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: (s) => (stdout += s) });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(['node', 'warden', ...args]);
  } catch (error) {
    if (error instanceof CliExit) {
      code = error.exitCode;
      if (error.message) stderr += error.message + '\n';
    } else if (error instanceof Error && 'exitCode' in error) {
      code = (error as { exitCode: number }).exitCode === 0 ? 0 : 2;
    } else throw error;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { code, stdout, stderr };
}

/** Writes a config to a fresh directory (its SQLite store next to it) and returns the file path. */
export function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, text);
  return file;
}
