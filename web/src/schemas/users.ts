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
  cached: Type.Boolean()
})
