// Bad input, part 2: TTLs, values, users, ids and pagination, methods and routes.
import { nested, JSON_TYPE, type Case, type RawClient } from './raw-client.js'

export function valueAndUserCases({ raw, post, postText }: RawClient): Case[] {
  return [
    // TTLs
    {
      kind: 'huge TTL',
      send: () => post('/cache', { key: 'k', value: 1, ttl: 1e12 }),
      status: 400,
      error: 'bad_request',
      message: /<= 2592000/
    },
    {
      kind: 'TTL 1e400 (infinite)',
      send: () => postText('/cache', '{"key":"k","value":1,"ttl":1e400}'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'negative TTL',
      send: () => post('/cache', { key: 'k', value: 1, ttl: -60 }),
      status: 400,
      error: 'bad_request',
      message: />= 1/
    },
    { kind: 'zero TTL', send: () => post('/cache', { key: 'k', value: 1, ttl: 0 }), status: 400, error: 'bad_request' },
    {
      kind: 'fractional TTL',
      send: () => post('/cache', { key: 'k', value: 1, ttl: 1.5 }),
      status: 400,
      error: 'bad_request',
      message: /integer/
    },
    {
      kind: 'string TTL',
      send: () => post('/cache', { key: 'k', value: 1, ttl: '60' }),
      status: 400,
      error: 'bad_request',
      message: /integer/
    },
    {
      kind: 'null TTL',
      send: () => post('/cache', { key: 'k', value: 1, ttl: null }),
      status: 400,
      error: 'bad_request'
    },

    // Values
    {
      kind: 'value nested 65 levels deep',
      send: () => post('/cache', { key: 'deep', value: nested(65) }),
      status: 400,
      error: 'bad_request',
      message: /nested/
    },
    {
      kind: 'value nested 10,000 levels deep',
      send: () => postText('/cache', `{"key":"deeper","value":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'value with a number too large to store (1e400)',
      send: () => postText('/cache', '{"key":"inf","value":{"n":1e400}}'),
      status: 400,
      error: 'bad_request',
      message: /too large/
    },

    // Users
    {
      kind: 'user with an invalid email',
      send: () => post('/users', { username: 'mail.bad', email: 'not-an-email' }),
      status: 400,
      error: 'bad_request',
      message: /email/
    },
    {
      kind: 'user with an email without a domain dot',
      send: () => post('/users', { username: 'mail.bad', email: 'a@b' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with an email over 254 characters',
      send: () => post('/users', { username: 'mail.long', email: `${'a'.repeat(250)}@example.com` }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with a duplicate email',
      send: () => post('/users', { username: 'someone.else', email: 'dup@example.com' }),
      status: 409,
      error: 'conflict',
      message: /email/
    },
    {
      kind: 'user with a duplicate email in other case',
      send: () => post('/users', { username: 'someone.else2', email: 'DUP@EXAMPLE.COM' }),
      status: 409,
      error: 'conflict'
    },
    {
      kind: 'user with a duplicate username',
      send: () => post('/users', { username: 'dup.user', email: 'other@example.com' }),
      status: 409,
      error: 'conflict',
      message: /username/
    },
    {
      kind: 'user without an email',
      send: () => post('/users', { username: 'no.mail' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with a blank username',
      send: () => post('/users', { username: '   ', email: 'blank@example.com' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with a username over 50 characters',
      send: () => post('/users', { username: 'u'.repeat(51), email: 'long@example.com' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with a username of the wrong type',
      send: () => post('/users', { username: ['a'], email: 'arr@example.com' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user with an extra field (id)',
      send: () => post('/users', { id: 1, username: 'with.id', email: 'with.id@example.com' }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user update with no field',
      send: () => raw('PATCH', '/users/1', JSON_TYPE, '{}'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'user update to a duplicate email',
      send: () => raw('PATCH', '/users/2', JSON_TYPE, JSON.stringify({ email: 'dup@example.com' })),
      status: 409,
      error: 'conflict'
    },

    // Ids and pagination
    { kind: 'unknown user id', send: () => raw('GET', '/users/999999'), status: 404, error: 'not_found' },
    {
      kind: 'update of an unknown user id',
      send: () => raw('PATCH', '/users/999999', JSON_TYPE, '{"username":"ghost"}'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'delete of an unknown user id',
      send: () => raw('DELETE', '/users/999999'),
      status: 404,
      error: 'not_found'
    },
    { kind: 'user id not a number', send: () => raw('GET', '/users/abc'), status: 400, error: 'bad_request' },
    { kind: 'user id zero', send: () => raw('GET', '/users/0'), status: 400, error: 'bad_request' },
    { kind: 'user id negative', send: () => raw('DELETE', '/users/-1'), status: 400, error: 'bad_request' },
    { kind: 'user id fractional', send: () => raw('GET', '/users/1.5'), status: 400, error: 'bad_request' },
    {
      kind: 'user id beyond 2^53',
      send: () => raw('GET', '/users/99999999999999999999'),
      status: 400,
      error: 'bad_request'
    },
    { kind: 'user id SQL-shaped', send: () => raw('GET', '/users/1%20OR%201=1'), status: 400, error: 'bad_request' },
    {
      kind: 'unknown cache key (read)',
      send: () => raw('GET', '/cache/never-stored'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'unknown cache key (delete)',
      send: () => raw('DELETE', '/cache/never-stored'),
      status: 404,
      error: 'not_found'
    },
    { kind: 'pagination: limit 0', send: () => raw('GET', '/users?limit=0'), status: 400, error: 'bad_request' },
    {
      kind: 'pagination: limit over 100',
      send: () => raw('GET', '/users?limit=101'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'pagination: negative offset',
      send: () => raw('GET', '/users?offset=-1'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'pagination: offset far out of range',
      send: () => raw('GET', '/users?offset=99999999999'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'pagination: limit not a number',
      send: () => raw('GET', '/users?limit=ten'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'pagination: limit given twice',
      send: () => raw('GET', '/users?limit=5&limit=6'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'pagination: unknown parameter',
      send: () => raw('GET', '/users?order=id;DROP%20TABLE%20users'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'recent visits: limit out of range',
      send: () => raw('GET', '/visits/recent?limit=1000'),
      status: 400,
      error: 'bad_request'
    },

    // Methods and routes: always 404 with the same shape (no route for that method and path)
    {
      kind: 'wrong method: PUT /cache',
      send: () => raw('PUT', '/cache', JSON_TYPE, '{}'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'wrong method: POST /visits',
      send: () => raw('POST', '/visits', JSON_TYPE, '{}'),
      status: 404,
      error: 'not_found'
    },
    { kind: 'wrong method: DELETE /users', send: () => raw('DELETE', '/users'), status: 404, error: 'not_found' },
    {
      kind: 'wrong method: PUT /users/1',
      send: () => raw('PUT', '/users/1', JSON_TYPE, '{"username":"x"}'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'wrong method: PATCH /cache/k',
      send: () => raw('PATCH', '/cache/k', JSON_TYPE, '{}'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'wrong method: POST /health',
      send: () => raw('POST', '/health', JSON_TYPE, '{}'),
      status: 404,
      error: 'not_found'
    },
    { kind: 'wrong method: TRACE /', send: () => raw('TRACE', '/'), status: 404, error: 'not_found' },
    { kind: 'unknown route', send: () => raw('GET', '/admin'), status: 404, error: 'not_found' }
  ]
}
