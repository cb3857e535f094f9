import type { DatabaseError } from 'pg'
import type { UserRepository, UserRow } from '../db/repositories/users.js'
import { badRequest, conflict, guard, notFound } from '../dependency-failure.js'
import { decodeCursor, encodeCursor } from './user-cursor.js'
import type { CachedCollection } from '../cache/collection.js'

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
  /** Where the next page starts (GET /users?cursor=...); null on the last page. */
  next_cursor: string | null
}

export interface PageQuery {
  limit: number
  offset: number
  /** An opaque cursor from a previous page's next_cursor. */
  cursor?: string | undefined
}

export interface UserInput {
  username: string
  email: string
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
    private readonly repository: UserRepository,
    private readonly cache: CachedCollection
  ) {}

  /** The page as JSON text (a UserPage), straight from the cache on a hit. */
  listText(query: PageQuery): Promise<{ text: string; cached: boolean }> {
    if (query.cursor !== undefined && query.offset !== 0) {
      throw badRequest('offset and cursor cannot be combined: a cursor already says where the page starts')
    }
    const after = query.cursor === undefined ? 0 : decodeCursor(query.cursor)
    return this.cache.readText(`list:${query.limit}:${query.offset}:${after}`, () =>
      this.loadPage(query.limit, query.offset, after)
    )
  }

  private async loadPage(limit: number, offset: number, after: number): Promise<UserPage> {
    // One row more than asked says whether there is a next page, without a second query.
    const { total, rows } = await guard('db', () => this.repository.page(limit + 1, after, offset))
    const users = rows.slice(0, limit).map(toUser)
    const last = users.at(-1)
    const next_cursor = rows.length > limit && last !== undefined ? encodeCursor(last.id) : null
    return { total, limit, offset, users, next_cursor }
  }

  /** One user as JSON text: a cached copy leaves as stored, without being parsed and serialized again. */
  async getText(id: number): Promise<{ text: string; cached: boolean }> {
    const read = await this.cache.readText(`id:${id}`, async () => {
      const row = await guard('db', () => this.repository.byId(id))
      return row === undefined ? null : toUser(row)
    })
    if (read.text === 'null') throw notFound(`No user with id ${id}`)
    return read
  }

  async create(input: UserInput): Promise<User> {
    const user = await this.write(() => this.repository.insert(input.username, input.email))
    await this.cache.invalidate()
    return user
  }

  async update(id: number, changes: Partial<UserInput>): Promise<User> {
    const user = await this.write(() => this.repository.update(id, changes.username ?? null, changes.email ?? null))
    await this.cache.invalidate()
    return user
  }

  async remove(id: number): Promise<void> {
    const deleted = await guard('db', () => this.repository.delete(id))
    if (!deleted) throw notFound(`No user with id ${id}`)
    await this.cache.invalidate()
  }

  private async write(query: () => Promise<UserRow | undefined>): Promise<User> {
    const user = await guard('db', async () => {
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
    if (user === undefined) throw notFound('No such user')
    return toUser(user)
  }
}
