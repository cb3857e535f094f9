/**
 * Every Redis key the service writes. Redis only holds copies and short-lived values: losing
 * any of them loses no data. Nothing else in the service builds a key name.
 *
 * | key                     | type   | lifetime                       | written by                  |
 * | ----------------------- | ------ | ------------------------------ | --------------------------- |
 * | `kv:<key>`              | string | the TTL the client gave        | POST /cache                 |
 * | `visit_counter:<label>` | string | CACHE_TTL_S, raised on commit  | each committed visit batch  |
 * | `<collection>:cache`    | hash   | CACHE_TTL_S from the first fill | cached reads (`users`)     |
 * | `<collection>:gen`      | string | none: a counter of writes      | each write to the collection |
 * | `teste`                 | string | none: always `ok`              | GET /cache (the probe)      |
 */

/** A client's value in the key/value API. */
export const keyValueKey = (key: string): string => `kv:${key}`

/** The cached total of a visit counter. */
export const visitCounterKey = (label: string): string => `visit_counter:${label}`

/** A cached collection's hash of serialized reads, one field per query. */
export const collectionCacheKey = (collection: string): string => `${collection}:cache`

/** A cached collection's generation: bumped by each write, so a slow fill cannot put back an older copy. */
export const collectionGenerationKey = (collection: string): string => `${collection}:gen`

/** The /cache probe's key; kept outside any prefix because the seeds named it so. */
export const PROBE_KEY = 'teste'

/**
 * Not a key but a channel: where Redis publishes the names of tracked keys that changed
 * (client-side caching in RESP2 redirect mode), read by the near cache's subscriber connection.
 */
export const INVALIDATION_CHANNEL = '__redis__:invalidate'
