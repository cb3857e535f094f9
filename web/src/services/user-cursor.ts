import { badRequest } from '../dependency-failure.js'

// A cursor is the last id of the page before, in base64url: opaque to clients, so the service may
// change what it holds (a sort key, say) without breaking them. The schema checks its alphabet.
const ID = /^[1-9][0-9]{0,15}$/

export const encodeCursor = (lastId: number): string => Buffer.from(String(lastId)).toString('base64url')

/** The id a cursor points after; a 400 when the cursor was not made by encodeCursor. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('latin1')
  const id = Number(text)
  if (!ID.test(text) || !Number.isSafeInteger(id) || encodeCursor(id) !== cursor) {
    throw badRequest('cursor is not one this service gave out; start again from the first page, without it')
  }
  return id
}
