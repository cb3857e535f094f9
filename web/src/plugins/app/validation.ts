import { Ajv, type Options } from 'ajv'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import addFormats from 'ajv-formats'
import { errorCodes, type FastifyInstance, type FastifySchema, type FastifySchemaCompiler } from 'fastify'
import { ErrorBody } from '../../schemas/common.js'
import { UserBody } from '../../schemas/users.js'
import { HttpError } from '../../dependency-failure.js'

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

const POLLUTION = /prototype property/

/**
 * Fastify's own JSON parser, with one difference: a `__proto__` or `constructor.prototype` key is
 * refused with a message that says so, rather than "Body is not valid JSON" (it is valid JSON).
 */
function parseJson(_request: unknown, body: string, done: (err: Error | null, value?: unknown) => void): void {
  // Fastify's own errors for the usual cases: the error handler words them like every other.
  if (body === '') return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY())
  try {
    done(null, secureJson.parse(body, { protoAction: 'error', constructorAction: 'error' }))
  } catch (err) {
    if (!(err instanceof Error && POLLUTION.test(err.message)))
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY())
    done(
      new HttpError(
        400,
        'bad_request',
        'Body may not contain a "__proto__" or "constructor": {"prototype": ...} key (prototype pollution)'
      )
    )
  }
}

/** Input validation, the shared schemas, and JSON as the only body type. */
export default fp(
  async function validation(app: FastifyInstance) {
    app.setValidatorCompiler(validatorCompiler())
    // Bodies are JSON or nothing: without this, text/plain would be parsed and fail validation as 400, not 415.
    app.removeContentTypeParser('text/plain')
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson)
    app.addSchema(ErrorBody)
    app.addSchema(UserBody)
  },
  { name: 'validation' }
)
