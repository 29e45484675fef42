import { z } from 'zod';

/** `observe:` section: telemetry, sequence detectors, inter-agent edges, containment (Domain 6). */
export const observeSectionSchema = z.strictObject({}).describe('Observability and incident response.');

/** Parsed `observe:` section. */
export type ObserveSection = z.infer<typeof observeSectionSchema>;
