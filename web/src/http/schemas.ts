import { Type, type Static } from 'typebox'

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine-readable code, e.g. bad_request, not_found, db_unavailable' }),
    message: Type.String({ description: 'what went wrong and what to do' })
  },
  { $id: 'Error' }
)

export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Type.Ref('Error')]))

// Control characters (C0, DEL, C1) make keys unreadable in logs and redis-cli; everything else,
// including emoji and any script, is a valid key. Lone UTF-16 surrogates (\uD800-\uDFFF outside a
// pair; patterns are matched in Unicode mode) cannot be encoded: Redis and PostgreSQL would store
// U+FFFD, so the text would not read back as sent and different keys would collide. The keys "."
// and ".." cannot be read back: HTTP clients resolve them as path segments before sending.
export const CACHE_KEY_PATTERN = '^(?!\\.\\.?$)[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]+$'
export const MAX_TTL_S = 30 * 24 * 3600

export const CacheKey = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: CACHE_KEY_PATTERN,
  description: '1-200 characters, no control characters, not "." or ".."'
})

export const Ttl = Type.Integer({ minimum: 1, maximum: MAX_TTL_S, description: 'seconds, 1 to 30 days' })

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

// Response bodies the status page reads. They live here, in a module that needs nothing but TypeBox,
// because web/ui imports their types (type-only) instead of restating them.

export const ServiceCheck = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latency_ms: Type.Number(),
  version: Type.Union([Type.String(), Type.Null()]),
  error: Type.Optional(Type.String())
})

export const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  services: Type.Object({
    web: Type.Object({
      status: Type.Literal('up'),
      version: Type.String(),
      uptime_s: Type.Number(),
      host: Type.String({ description: 'the replica that answered (its container id under Docker)' })
    }),
    db: ServiceCheck,
    cache: ServiceCheck
  }),
  cache_stats: Type.Object({
    hits: Type.Integer(),
    misses: Type.Integer(),
    hit_ratio: Type.Union([Type.Number(), Type.Null()])
  })
})

export const VisitTotal = Type.Object({
  label: Type.String(),
  total: Type.Integer(),
  cached: Type.Boolean({ description: 'true when read from Redis, false when read from PostgreSQL' })
})

export const RecentVisits = Type.Object({
  visits: Type.Array(Type.Object({ id: Type.Integer(), visited_at: Type.String({ format: 'date-time' }) }))
})

export const UserPage = Type.Object({
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  users: Type.Array(Type.Ref('User')),
  cached: Type.Boolean()
})

export const StoreResult = Type.Object({ key: Type.String(), ttl: Type.Integer(), message: Type.String() })

export const StoredValue = Type.Object({ key: Type.String(), value: Type.Unknown(), ttl: Type.Integer() })
