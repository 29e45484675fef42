import { z } from 'zod';

/**
 * `trust:` section: how content tiers and session taint turn into decisions (Domain 2).
 * Owned by the trust module; the foundation only reserves the section.
 */
export const trustSectionSchema = z
  .strictObject({})
  .describe('Input trust boundaries: taint policy, verification, output inspection, injection detection.');

/** Parsed `trust:` section. */
export type TrustSection = z.infer<typeof trustSectionSchema>;
