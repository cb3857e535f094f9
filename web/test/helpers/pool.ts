import pg from 'pg'

/**
 * A pool for a test's own queries. Its end() resolves before its connections have closed, so a
 * server stopped right after may still reach them with its goodbye ("terminating connection due
 * to administrator command"): with no listener, that 'error' would be thrown after the tests had
 * passed and fail the whole file.
 */
export function testPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max })
  pool.on('error', () => undefined)
  return pool
}
