import type { Pool } from '../pool.js'

export interface UserRow {
  id: number
  username: string
  email: string
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, username, email, created_at, updated_at'

// The page and the total in one round trip; the window count is taken over the same snapshot.
const LIST = `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM users ORDER BY id LIMIT $1 OFFSET $2`

/** Every statement on the users table; driver errors pass through for the service to map. */
export class UserRepository {
  constructor(private readonly pool: Pool) {}

  async page(limit: number, offset: number): Promise<Array<UserRow & { total: number }>> {
    return (await this.pool.query<UserRow & { total: number }>(LIST, [limit, offset])).rows
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ total: number }>('SELECT count(*)::int AS total FROM users')
    return rows[0]?.total ?? 0
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
