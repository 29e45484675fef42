/* No OpenTelemetry imports here: the core decides whether to load the SDK with this alone. */

/**
 * The traces URL to use: the configured endpoint (a base URL gets `/v1/traces` appended), else
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/traces`.
 * Undefined when none is set: telemetry stays off.
 */
export function resolveTracesUrl(
  configured: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const join = (base: string) =>
    /\/v1\/traces\/?$/.test(base) ? base : base.replace(/\/+$/, '') + '/v1/traces';
  if (configured) return join(configured);
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? join(base) : undefined;
}
