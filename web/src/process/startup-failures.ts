/**
 * How `npm start` fails: one line on stderr that says what to do, and an exit code per kind of
 * failure so a supervisor or a script can tell them apart. No stack trace: the cause is named.
 */
export const EXIT_CODES = {
  unexpected: 1,
  configuration: 2,
  dependencyUnreachable: 3,
  dependencyRefused: 4,
  cannotListen: 5
} as const

export type FailureKind = keyof typeof EXIT_CODES

export class StartupFailure extends Error {
  override name = 'StartupFailure'
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: ErrorOptions
  ) {
    super(message, options)
  }
}

// SQLSTATE class 28 (bad password, unknown role), no such database, and missing privileges:
// retrying cannot fix them, so waiting for them only hides the cause.
const PERMANENT_PG_CODES = new Set(['28P01', '28000', '3D000', '42501'])
const PERMANENT_REDIS_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b/

/** Whether a failed connection attempt is a refusal (credentials, role, database) rather than a delay. */
export function isRefusal(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string' && PERMANENT_PG_CODES.has(code)) return true
  return typeof message === 'string' && PERMANENT_REDIS_REPLY.test(message)
}

/** Turns an error of `listen()` into what to do about it. */
export function listenFailure(err: unknown, host: string, port: number): StartupFailure {
  const code = (err as { code?: unknown }).code
  const where = `${host}:${port}`
  const message =
    code === 'EADDRINUSE'
      ? `${where} is already in use; stop the process using it or set PORT to a free port`
      : code === 'EACCES'
        ? `not allowed to listen on ${where}; use a PORT above 1023 or run with the needed privilege`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? `HOST=${host} is not an address of this machine; use 0.0.0.0 or 127.0.0.1`
          : `cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`
  return new StartupFailure('cannotListen', message, { cause: err })
}

/** Prints the one line and exits with the code of its kind. */
export function exitOnStartupFailure(err: unknown): never {
  const failure =
    err instanceof StartupFailure
      ? err
      : new StartupFailure('unexpected', err instanceof Error ? `${err.name}: ${err.message}` : String(err))
  process.stderr.write(`cannot start: ${failure.message}\n`)
  process.exit(EXIT_CODES[failure.kind])
}
