// Schemas shared by every route. Modules in schemas/ need nothing but TypeBox: web/ui imports
// their types (type-only) instead of restating them.
import { Type } from 'typebox'

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine-readable code, e.g. bad_request, not_found, db_unavailable' }),
    message: Type.String({ description: 'what went wrong and what to do' })
  },
  { $id: 'Error' }
)

export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, Type.Ref('Error')]))
