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
    hit_ratio: Type.Union([Type.Number(), Type.Null()])
  })
})
