import type { DatabaseError } from 'pg'
import type { Pool } from '../db/pool.js'
import { conflict, guard, notFound } from '../errors.js'
import type { CachedCollection, CachedRead } from '../cache/collection.js'

export interface User {
  id: number
  username: string
  email: string
  created_at: string
  updated_at: string
}

export interface UserPage {
  total: number
  limit: number
  offset: number
  users: User[]
}

export interface UserInput {
  username: string
  email: string
}

const COLUMNS = 'id, username, email, created_at, updated_at'

// The page and the total in one round trip; the window count is taken over the same snapshot.
const LIST = `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM users ORDER BY id LIMIT $1 OFFSET $2`

interface UserRow {
  id: number
  username: string
  email: string
  created_at: Date
  updated_at: Date
}

// Fresh and cached reads must look the same, so dates become ISO strings before either is used.
const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  email: row.email,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString()
})

const UNIQUE_FIELDS: Record<string, keyof UserInput> = {
  users_username_key: 'username',
  users_email_key: 'email'
}

function isUniqueViolation(err: unknown): err is DatabaseError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505'
}

/** Users in PostgreSQL, with every read served cache-aside and every write invalidating the cache. */
export class UserService {
  constructor(
    private readonly pool: Pool,
    private readonly cache: CachedCollection
  ) {}

  list(limit: number, offset: number): Promise<CachedRead<UserPage>> {
    return this.cache.read(`list:${limit}:${offset}`, () => this.loadPage(limit, offset))
  }

  /** The page as JSON text (a UserPage), straight from the cache on a hit. */
  listText(limit: number, offset: number): Promise<{ text: string; cached: boolean }> {
    return this.cache.readText(`list:${limit}:${offset}`, () => this.loadPage(limit, offset))
  }

  private async loadPage(limit: number, offset: number): Promise<UserPage> {
    const { rows } = await guard('db', () => this.pool.query<UserRow & { total: number }>(LIST, [limit, offset]))
    // Past the last page there is no row to carry the total; ask for it separately.
    const total = rows[0]?.total ?? (await this.count())
    return { total, limit, offset, users: rows.map(toUser) }
  }

  async get(id: number): Promise<CachedRead<User>> {
    const read = await this.cache.read(`id:${id}`, async () => {
      const { rows } = await guard('db', () =>
        this.pool.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id])
      )
      return rows[0] === undefined ? null : toUser(rows[0])
    })
    if (read.value === null) throw notFound(`No user with id ${id}`)
    return { value: read.value, cached: read.cached }
  }

  async create(input: UserInput): Promise<User> {
    const user = await this.write(() =>
      this.pool.query<UserRow>(`INSERT INTO users (username, email) VALUES ($1, $2) RETURNING ${COLUMNS}`, [
        input.username,
        input.email
      ])
    )
    await this.cache.invalidate()
    return user
  }

  async update(id: number, changes: Partial<UserInput>): Promise<User> {
    const user = await this.write(() =>
      this.pool.query<UserRow>(
        `UPDATE users SET username = coalesce($2, username), email = coalesce($3, email), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.username ?? null, changes.email ?? null]
      )
    )
    await this.cache.invalidate()
    return user
  }

  async remove(id: number): Promise<void> {
    const { rowCount } = await guard('db', () => this.pool.query('DELETE FROM users WHERE id = $1', [id]))
    if (rowCount === 0) throw notFound(`No user with id ${id}`)
    await this.cache.invalidate()
  }

  private async count(): Promise<number> {
    const { rows } = await guard('db', () =>
      this.pool.query<{ total: number }>('SELECT count(*)::int AS total FROM users')
    )
    return rows[0]?.total ?? 0
  }

  private async write(query: () => Promise<{ rows: UserRow[] }>): Promise<User> {
    const { rows } = await guard('db', async () => {
      try {
        return await query()
      } catch (err) {
        if (isUniqueViolation(err)) {
          const field = UNIQUE_FIELDS[err.constraint ?? ''] ?? 'username or email'
          throw conflict(`A user with this ${field} already exists`)
        }
        throw err
      }
    })
    const user = rows[0]
    if (user === undefined) throw notFound('No such user')
    return toUser(user)
  }
}
