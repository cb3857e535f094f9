// Reading parsed JSON (docker inspect, HTTP bodies) without casts.

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A nested property: get(body, 'services', 'db', 'status'). */
export function get(v: unknown, ...path: string[]): unknown {
  let cur: unknown = v
  for (const key of path) {
    if (!isRecord(cur)) return undefined
    cur = cur[key]
  }
  return cur
}

export function expect(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(msg)
}
