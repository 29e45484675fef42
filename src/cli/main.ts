#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliExit, toCliExit } from './context.js';
import { EXIT } from './exit-codes.js';
import { buildProgram } from './program.js';

async function main(): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const exit = error instanceof CliExit ? error : toCliExit(error);
    if (exit.message) process.stderr.write(`warden: ${exit.message}\n`);
    return exit.exitCode;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`warden: internal error: ${String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
