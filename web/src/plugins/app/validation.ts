import { Ajv, type Options } from 'ajv'
import fp from 'fastify-plugin'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify'
import { ErrorBody } from '../../schemas/common.js'
import { UserBody } from '../../schemas/users.js'

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

/** Input validation, the shared schemas, and JSON as the only body type. */
export default fp(
  async function validation(app: FastifyInstance) {
    app.setValidatorCompiler(validatorCompiler())
    // Bodies are JSON or nothing: without this, text/plain would be parsed and fail validation as 400, not 415.
    app.removeContentTypeParser('text/plain')
    app.addSchema(ErrorBody)
    app.addSchema(UserBody)
  },
  { name: 'validation' }
)
