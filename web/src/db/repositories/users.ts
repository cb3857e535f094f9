import type { Pool } from '../pool.js'

export interface UserRow {
  id: number
  username: string
  email: string
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, username, email, created_at, updated_at'

/**
 * One page and the total, in one statement (one snapshot). The page walks the primary key from
 * just after `$2` (a keyset cursor; 0 for the first page) and skips `$3` rows: O(limit + offset)
 * rows touched however deep the page. The total is the trigger-kept row count, O(1). The count row
 * always exists, so a page past the end still comes back as one row, with the user columns null.
 */
export const PAGE_SQL = `
SELECT c.total::int AS total, u.id, u.username, u.email, u.created_at, u.updated_at
FROM row_counts c
LEFT JOIN LATERAL (
  SELECT ${COLUMNS} FROM users WHERE id > $2 ORDER BY id LIMIT $1 OFFSET $3
) u ON true
WHERE c.table_name = 'users'
ORDER BY u.id`

export interface Page {
  total: number
  rows: UserRow[]
}

/** Every statement on the users table; driver errors pass through for the service to map. */
export class UserRepository {
  constructor(private readonly pool: Pool) {}

  /** Up to `limit` users with an id above `after`, skipping the first `offset` of them. */
  async page(limit: number, after: number, offset: number): Promise<Page> {
    type Row = { total: number } & { [K in keyof UserRow]: UserRow[K] | null }
    const { rows } = await this.pool.query<Row>(PAGE_SQL, [limit, after, offset])
    const total = rows[0]?.total ?? 0
    return { total, rows: rows.filter((row): row is Row & UserRow => row.id !== null) }
  }

  async byId(id: number): Promise<UserRow | undefined> {
    return (await this.pool.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id])).rows[0]
  }

  async insert(username: string, email: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `INSERT INTO users (username, email) VALUES ($1, $2) RETURNING ${COLUMNS}`,
      [username, email]
    )
    return rows[0]
  }

  /** Changes the fields given (null keeps a field); undefined when there is no such user. */
  async update(id: number, username: string | null, email: string | null): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `UPDATE users SET username = coalesce($2, username), email = coalesce($3, email), updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, username, email]
    )
    return rows[0]
  }

  /** Whether a row was deleted. */
  async delete(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM users WHERE id = $1', [id])
    return rowCount !== 0
  }
}
