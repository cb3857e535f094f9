import { Type } from 'typebox'

export const VisitTotal = Type.Object({
  label: Type.String(),
  total: Type.Integer(),
  cached: Type.Boolean({ description: 'true when read from Redis, false when read from PostgreSQL' })
})

export const RecentVisits = Type.Object({
  visits: Type.Array(Type.Object({ id: Type.Integer(), visited_at: Type.String({ format: 'date-time' }) }))
})
