import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchema, FastifySchemaCompiler } from 'fastify'

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, ...options })
  addFormats.default(ajv, ['email', 'date-time'])
  return ajv
}

/**
 * Bodies are validated strictly: a string TTL or an unknown field is the client's mistake to hear
 * about, not something to guess. Query strings and path parameters are text by nature and are coerced.
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = createAjv({ coerceTypes: false, removeAdditional: false })
  const coercing = createAjv({ coerceTypes: 'array', removeAdditional: false })
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object)
}
