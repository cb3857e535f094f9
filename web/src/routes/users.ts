import { Type } from 'typebox'
import { errorResponses } from '../schemas/common.js'
import { Email, PageQuery, UserId, UserPage, Username } from '../schemas/users.js'
import type { App, RouteContext } from './route-context.js'

const UserRef = Type.Ref('User')

const CreateUser = Type.Object({ username: Username, email: Email }, { additionalProperties: false })
const UpdateUser = Type.Object(
  { username: Type.Optional(Username), email: Type.Optional(Email) },
  { additionalProperties: false, minProperties: 1 }
)

export function userRoutes(app: App, { users }: RouteContext): void {
  app.get(
    '/users',
    {
      schema: {
        summary: 'List users (cache-aside)',
        tags: ['users'],
        querystring: PageQuery,
        response: {
          200: UserPage,
          ...errorResponses(400, 503)
        }
      }
    },
    async (request, reply) => {
      // The page is cached as JSON in the shape above; it leaves as stored, with the flag appended,
      // rather than being parsed and serialized again on every hit.
      const { text, cached } = await users.listText(request.query)
      // A string with a JSON content type is sent as it is (the schema's serializer is for objects).
      return reply.type('application/json; charset=utf-8').send(`${text.slice(0, -1)},"cached":${cached}}` as never)
    }
  )

  app.get(
    '/users/:id',
    {
      schema: {
        summary: 'Get one user (cache-aside)',
        tags: ['users'],
        params: UserId,
        response: { 200: UserRef, ...errorResponses(400, 404, 503) }
      }
    },
    async (request, reply) => {
      const { text, cached } = await users.getText(request.params.id)
      reply.header('x-cache', cached ? 'hit' : 'miss')
      return reply.type('application/json; charset=utf-8').send(text as never)
    }
  )

  app.post(
    '/users',
    {
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        body: CreateUser,
        response: { 201: UserRef, ...errorResponses(400, 401, 409, 413, 415, 429, 503) }
      }
    },
    async (request, reply) => {
      const user = await users.create(request.body)
      return reply.code(201).header('location', `/users/${user.id}`).send(user)
    }
  )

  app.patch(
    '/users/:id',
    {
      schema: {
        summary: 'Change a user',
        tags: ['users'],
        params: UserId,
        body: UpdateUser,
        response: { 200: UserRef, ...errorResponses(400, 401, 404, 409, 413, 415, 429, 503) }
      }
    },
    (request) => users.update(request.params.id, request.body)
  )

  app.delete(
    '/users/:id',
    {
      schema: {
        summary: 'Delete a user',
        tags: ['users'],
        params: UserId,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404, 429, 503) }
      }
    },
    async (request, reply) => {
      await users.remove(request.params.id)
      return reply.code(204).send(null)
    }
  )
}
