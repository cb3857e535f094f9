import type { DatabaseError } from 'pg'
import type { UserRepository, UserRow } from '../db/repositories/users.js'
import { conflict, guard, notFound } from '../dependency-failure.js'
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

  list(limit: number, offset: number): Promise<CachedRead<UserPage>> {
    return this.cache.read(`list:${limit}:${offset}`, () => this.loadPage(limit, offset))
  }

  /** The page as JSON text (a UserPage), straight from the cache on a hit. */
  listText(limit: number, offset: number): Promise<{ text: string; cached: boolean }> {
    return this.cache.readText(`list:${limit}:${offset}`, () => this.loadPage(limit, offset))
  }

  private async loadPage(limit: number, offset: number): Promise<UserPage> {
    const rows = await guard('db', () => this.repository.page(limit, offset))
    // Past the last page there is no row to carry the total; ask for it separately.
    const total = rows[0]?.total ?? (await this.count())
    return { total, limit, offset, users: rows.map(toUser) }
  }

  async get(id: number): Promise<CachedRead<User>> {
    const read = await this.cache.read(`id:${id}`, async () => {
      const row = await guard('db', () => this.repository.byId(id))
      return row === undefined ? null : toUser(row)
    })
    if (read.value === null) throw notFound(`No user with id ${id}`)
    return { value: read.value, cached: read.cached }
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

  private count(): Promise<number> {
    return guard('db', () => this.repository.count())
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
