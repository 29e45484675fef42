/** Signed agent-to-agent messages: what a sending agent needs (sign) and what operators need (keys). */
export { signMessage, verifySignature, type MessageEnvelope, type MessageToSign } from './envelope.js';
export { generateAgentKeyPair, parsePublicKey, publicKeyFingerprint, type AgentKeyPair } from './keys.js';
