/**
 * `agent-warden/otel`: OpenTelemetry export of Warden's decisions with the GenAI semantic conventions.
 * Warden loads this module lazily, only when telemetry is configured (`observe.telemetry.otlpEndpoint` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`), so an install that does not export never loads the SDK.
 */
export { DecisionTracer, type DecisionTracerOptions } from './tracer.js';
export { resolveTracesUrl } from './endpoint.js';
export * as attributes from './attributes.js';
