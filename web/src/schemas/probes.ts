import { Type } from 'typebox'

export const DbProbe = Type.Object({
  status: Type.Literal('ok'),
  time: Type.String({ format: 'date-time' }),
  version: Type.String(),
  latency_ms: Type.Number()
})

export const CacheProbe = Type.Object({
  status: Type.Literal('ok'),
  key: Type.String(),
  value: Type.Union([Type.String(), Type.Null()]),
  latency_ms: Type.Number()
})
