import { z } from 'zod';

/** One grant in an agent's `grants:` list (Domain 3, least privilege). Owned by the actions module. */
export const grantSchema = z.strictObject({}).describe('A grant of one tool to an agent.');

/** `approvals:` section: who approves what, quorum, expiry. Owned by the actions module. */
export const approvalsSectionSchema = z.strictObject({}).describe('Human approval rules.');

/** Parsed grant. */
export type Grant = z.infer<typeof grantSchema>;
/** Parsed `approvals:` section. */
export type ApprovalsSection = z.infer<typeof approvalsSectionSchema>;
