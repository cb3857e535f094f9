import { Type } from 'typebox'

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

export const StoreResult = Type.Object({ key: Type.String(), ttl: Type.Integer(), message: Type.String() })

export const StoredValue = Type.Object({ key: Type.String(), value: Type.Unknown(), ttl: Type.Integer() })
