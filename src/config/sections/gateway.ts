import { z } from 'zod';

/** `gateway:` section: upstream MCP servers and how the gateway fronts them. Owned by the gateway module. */
export const gatewaySectionSchema = z.strictObject({}).describe('MCP gateway: upstream servers and options.');

/** Parsed `gateway:` section. */
export type GatewaySection = z.infer<typeof gatewaySectionSchema>;
