import { z } from 'zod';

/** `maturity:` section: what each phase allows and what promotion needs. Owned by the maturity module. */
export const maturitySectionSchema = z.strictObject({}).describe('Maturity phases and promotion rules.');

/** Parsed `maturity:` section. */
export type MaturitySection = z.infer<typeof maturitySectionSchema>;
