// Bad input, part 1: body format, fields, keys.
import { JSON_TYPE, type Case, type RawClient } from './raw-client.js'

export function formatAndKeyCases({ raw, post, postText }: RawClient): Case[] {
  return [
    // Body format
    {
      kind: 'malformed JSON (truncated object)',
      send: () => postText('/cache', '{"key": "k", '),
      status: 400,
      error: 'bad_request',
      message: /not valid JSON/
    },
    {
      kind: 'malformed JSON (single quotes)',
      send: () => postText('/users', "{'username': 'x'}"),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'malformed JSON (trailing garbage)',
      send: () => postText('/cache', '{"key":"k","value":1}xyz'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'empty body declared as JSON',
      send: () => raw('POST', '/cache', JSON_TYPE, ''),
      status: 400,
      error: 'bad_request'
    },
    { kind: 'JSON null as the body', send: () => postText('/cache', 'null'), status: 400, error: 'bad_request' },
    {
      kind: 'JSON array as the body',
      send: () => post('/users', [{ username: 'a', email: 'a@example.com' }]),
      status: 400,
      error: 'bad_request',
      message: /must be object/
    },
    { kind: 'JSON string as the body', send: () => post('/cache', 'key=value'), status: 400, error: 'bad_request' },
    {
      kind: 'wrong content type: text/plain',
      send: () => raw('POST', '/cache', { 'content-type': 'text/plain' }, '{"key":"k","value":1}'),
      status: 415,
      error: 'unsupported_media_type'
    },
    {
      kind: 'wrong content type: form-urlencoded',
      send: () =>
        raw(
          'POST',
          '/users',
          { 'content-type': 'application/x-www-form-urlencoded' },
          'username=a&email=a@example.com'
        ),
      status: 415,
      error: 'unsupported_media_type'
    },
    {
      kind: 'wrong content type: multipart',
      send: () => raw('POST', '/cache', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\nv\r\n--x--'),
      status: 415,
      error: 'unsupported_media_type'
    },
    {
      kind: 'no content type at all',
      send: () => raw('POST', '/cache', {}, '{"key":"k","value":1}'),
      status: 415,
      error: 'unsupported_media_type'
    },
    {
      kind: 'body over the 1 MiB limit',
      send: () => post('/cache', { key: 'big', value: 'x'.repeat(1024 * 1024) }),
      status: 413,
      error: 'payload_too_large'
    },
    {
      kind: 'prototype pollution (__proto__)',
      send: () => postText('/cache', '{"key":"k","value":{"__proto__":{"admin":true}}}'),
      status: 400,
      error: 'bad_request',
      message: /__proto__.*prototype pollution/
    },
    {
      kind: 'prototype pollution (constructor.prototype)',
      send: () => postText('/cache', '{"key":"k","value":{"constructor":{"prototype":{"admin":true}}}}'),
      status: 400,
      error: 'bad_request',
      message: /prototype pollution/
    },
    {
      kind: 'malformed chunked encoding',
      send: () => raw('POST', '/cache', { ...JSON_TYPE, 'transfer-encoding': 'chunked' }, 'zz\r\nnot hex\r\n0\r\n\r\n'),
      status: 400
    },
    {
      kind: 'headers over the size limit',
      send: () => raw('GET', '/users', { 'x-filler': 'a'.repeat(20_000) }),
      status: 431,
      error: 'headers_too_large'
    },

    // Fields
    {
      kind: 'missing key',
      send: () => post('/cache', { value: 1 }),
      status: 400,
      error: 'bad_request',
      message: /key/
    },
    {
      kind: 'missing value',
      send: () => post('/cache', { key: 'k' }),
      status: 400,
      error: 'bad_request',
      message: /value/
    },
    {
      kind: 'extra field',
      send: () => post('/cache', { key: 'k', value: 1, owner: 'me' }),
      status: 400,
      error: 'bad_request',
      message: /additional properties/
    },
    {
      kind: 'key of the wrong type (number)',
      send: () => post('/cache', { key: 42, value: 1 }),
      status: 400,
      error: 'bad_request',
      message: /string/
    },
    { kind: 'key null', send: () => post('/cache', { key: null, value: 1 }), status: 400, error: 'bad_request' },
    {
      kind: 'key an object',
      send: () => post('/cache', { key: { $gt: '' }, value: 1 }),
      status: 400,
      error: 'bad_request'
    },

    // Keys
    { kind: 'empty key', send: () => post('/cache', { key: '', value: 1 }), status: 400, error: 'bad_request' },
    {
      kind: 'key over 200 characters',
      send: () => post('/cache', { key: 'k'.repeat(201), value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key over 200 characters in the URL',
      send: () => raw('GET', `/cache/${'k'.repeat(201)}`),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key far over the URL parameter limit',
      send: () => raw('GET', `/cache/${'%41'.repeat(2000)}`),
      status: 414,
      error: 'uri_too_long'
    },
    {
      kind: 'key with a control character (newline)',
      send: () => post('/cache', { key: 'a\nb', value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key with a control character (ESC)',
      send: () => post('/cache', { key: 'a\u001bb', value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key with a C1 control character',
      send: () => post('/cache', { key: 'a\u0085b', value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key with NUL in the body',
      send: () => postText('/cache', '{"key":"a\\u0000b","value":1}'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key with an encoded NUL in the URL (%00)',
      send: () => raw('GET', '/cache/a%00b'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key with a lone surrogate',
      send: () => postText('/cache', '{"key":"a\\ud800","value":1}'),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'URL with invalid percent-encoding',
      send: () => raw('GET', '/cache/%E0%A4%A'),
      status: 400,
      error: 'bad_request'
    },
    { kind: 'URL with a bare percent sign', send: () => raw('DELETE', '/cache/%'), status: 400, error: 'bad_request' },
    {
      kind: 'key "." (a dot segment clients resolve away)',
      send: () => post('/cache', { key: '.', value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    {
      kind: 'key ".." (a dot segment clients resolve away)',
      send: () => post('/cache', { key: '..', value: 1 }),
      status: 400,
      error: 'bad_request'
    },
    { kind: 'path trick ../ (raw)', send: () => raw('GET', '/cache/../users'), status: 404, error: 'not_found' },
    {
      kind: 'path trick ..%2F to an internal key',
      send: () => raw('GET', '/cache/..%2Fvisit_counter%3Ahomepage'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'internal key name as a client key',
      send: () => raw('GET', '/cache/visit_counter%3Ahomepage'),
      status: 404,
      error: 'not_found'
    },
    {
      kind: 'delete of an internal key name',
      send: () => raw('DELETE', '/cache/users%3Acache'),
      status: 404,
      error: 'not_found'
    }
  ]
}
