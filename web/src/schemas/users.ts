import { Type, type Static } from 'typebox'

export const Username = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern:
    '^[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*[^\\s\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF][^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$'
})

export const Email = Type.String({ format: 'email', maxLength: 254 })

export const UserBody = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    email: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' })
  },
  { $id: 'User' }
)

export const UserId = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 9007199254740991 }) },
  { additionalProperties: false }
)

export type UserIdParams = Static<typeof UserId>

export const UserPage = Type.Object({
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  users: Type.Array(Type.Ref('User')),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: 'pass as `cursor` for the page after this one; null on the last page'
  }),
  cached: Type.Boolean()
})

/**
 * Offset pages cost O(offset): PostgreSQL walks every skipped row. 5,000 keeps the worst one a few
 * milliseconds; deeper than that, a client follows next_cursor, which costs O(limit) at any depth.
 */
export const MAX_OFFSET = 5_000

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({
      minimum: 0,
      maximum: MAX_OFFSET,
      default: 0,
      description: `rows to skip, at most ${MAX_OFFSET}; for deeper pages use cursor`
    }),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 24,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'opaque: the next_cursor of the page before; the page starts after it (keyset pagination)'
      })
    )
  },
  { additionalProperties: false }
)
