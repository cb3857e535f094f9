import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

interface LevelAware extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean
}

function levelAware(logger: FastifyBaseLogger): logger is LevelAware {
  return typeof (logger as Partial<LevelAware>).isLevelEnabled === 'function'
}

/**
 * A request's logger, made on its first log line at an enabled level.
 *
 * Fastify gives every request a child logger with its request id. Making a pino child formats the
 * bindings through the redaction rules, which costs more than the rest of a cached read's logging
 * together; at `warn`, almost no request ever writes a line, so most never need the child.
 */
class LazyRequestLogger {
  private real: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: LevelAware,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions | undefined
  ) {}

  private get logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options)
    return this.real
  }

  get level(): string {
    return this.real?.level ?? this.parent.level
  }

  set level(level: string) {
    this.logger.level = level
  }

  private write(level: Level, args: unknown[]): void {
    if (this.real === undefined && !this.parent.isLevelEnabled(level)) return
    const logger = this.logger
    ;(logger[level] as (...args: unknown[]) => void).apply(logger, args)
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args)
  }

  error(...args: unknown[]): void {
    this.write('error', args)
  }

  warn(...args: unknown[]): void {
    this.write('warn', args)
  }

  info(...args: unknown[]): void {
    this.write('info', args)
  }

  debug(...args: unknown[]): void {
    this.write('debug', args)
  }

  trace(...args: unknown[]): void {
    this.write('trace', args)
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options)
  }
}

/** Fastify's childLoggerFactory: the request logger is made only when something is logged. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions
): FastifyBaseLogger {
  // A route with its own log level, or a logger that cannot say what it would drop: no shortcut.
  if (options.level !== undefined || !levelAware(logger)) return logger.child(bindings, options)
  return new LazyRequestLogger(logger, bindings, options)
}
