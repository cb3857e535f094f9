// The bodies of the API responses the page reads, typed from the server's own TypeBox schemas.
// Type-only imports: nothing of the server reaches the browser, and a schema change that the page
// does not follow fails `npm run typecheck`.
import type { Static } from 'typebox'
import type { ErrorBody as ErrorSchema } from '../src/schemas/common.js'
import type { HealthBody as HealthSchema } from '../src/schemas/health.js'
import type { StoreResult as StoreResultSchema, StoredValue as StoredValueSchema } from '../src/schemas/key-value.js'
import type { UserBody as UserSchema, UserPage as UserPageSchema } from '../src/schemas/users.js'
import type { RecentVisits as RecentVisitsSchema, VisitTotal as VisitTotalSchema } from '../src/schemas/visits.js'

export type Health = Static<typeof HealthSchema>
export type ServiceState = Health['services']['db']['status']
export type VisitTotal = Static<typeof VisitTotalSchema>
export type RecentVisits = Static<typeof RecentVisitsSchema>
export type User = Static<typeof UserSchema>
/** The page's rows are a $ref to the User schema, which TypeBox types as unknown: name them here. */
export type UserPage = Omit<Static<typeof UserPageSchema>, 'users'> & { users: User[] }
export type StoreResult = Static<typeof StoreResultSchema>
export type StoredValue = Static<typeof StoredValueSchema>
export type ErrorBody = Static<typeof ErrorSchema>
