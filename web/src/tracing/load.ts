import { readTracing } from '../config/tracing.js'
import type { Tracing } from './sdk.js'

let running: Tracing | undefined

/**
 * Starts tracing when an OTLP endpoint is configured. Without one, nothing of OpenTelemetry is
 * imported: no patched driver, no hook, nothing on the request path. A bad setting is reported by
 * the configuration check in server.ts, which runs next and stops the process.
 */
export async function loadTracing(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config
  try {
    config = readTracing(env, (message) => new Error(message))
  } catch {
    return
  }
  if (config === undefined) return
  const { startTracing } = await import('./sdk.js')
  running = await startTracing(config)
}

/** The running tracing, if configured. */
export function activeTracing(): Tracing | undefined {
  return running
}
