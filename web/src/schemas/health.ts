import { Type } from 'typebox'

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
  stack_images: Type.Optional(
    Type.String({ description: 'present when the stack runs stand-in images: which ones, and their real versions' })
  ),
  cache_stats: Type.Object({
    hits: Type.Integer(),
    misses: Type.Integer(),
    hit_ratio: Type.Union([Type.Number(), Type.Null()]),
    near: Type.Object(
      {
        enabled: Type.Boolean({ description: 'NEAR_CACHE_MAX_ENTRIES is above 0' }),
        tracking: Type.Boolean({ description: 'Redis invalidations are on: copies are being served' }),
        hits: Type.Integer({ description: 'cached reads answered from this process since it started' }),
        misses: Type.Integer({ description: 'cached reads that went to Redis' }),
        hit_ratio: Type.Union([Type.Number(), Type.Null()]),
        entries: Type.Integer({ description: 'copies held now' })
      },
      { description: "this process's near cache (in-process copies of cached reads)" }
    )
  })
})
