import { createRequire } from 'node:module'
import type { LoggerOptions } from 'pino'

// Anything that may carry a secret, wherever it sits in a log object.
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'connectionString',
  '*.connectionString'
]

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

/** JSON logs for machines; pretty ones only when a person watches a terminal. */
export function loggerOptions(level: string, mixin?: () => object): LoggerOptions {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' }
  }
  // With tracing on: the trace and span a line was written in, to find a request's lines from its trace.
  if (mixin) options.mixin = mixin
  if (process.stdout.isTTY && process.env.NODE_ENV !== 'production' && prettyAvailable()) {
    options.transport = { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }
  }
  return options
}
