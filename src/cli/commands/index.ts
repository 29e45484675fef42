import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerInit } from './init.js';
import { registerLedger } from './ledger.js';
import { registerSchema } from './schema.js';
import { registerValidate } from './validate.js';

/** Every `warden` command, one register function per file. */
export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerInit,
  registerValidate,
  registerSchema,
  registerLedger,
  registerDemo,
];
