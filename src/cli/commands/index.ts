import type { Command } from 'commander';
import { registerAgents } from './agents.js';
import { registerApprovals } from './approvals.js';
import { registerDemo } from './demo.js';
import { registerGateway } from './gateway.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerKill } from './kill.js';
import { registerLedger } from './ledger.js';
import { registerPhase } from './phase.js';
import { registerSchema } from './schema.js';
import { registerTwin } from './twin.js';
import { registerValidate } from './validate.js';

/** Every `warden` command, one register function per file. */
export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerInit,
  registerValidate,
  registerSchema,
  registerLedger,
  registerDemo,
  registerAgents,
  registerKill,
  registerKeys,
  registerTwin,
  registerGateway,
  registerApprovals,
  registerPhase,
];
