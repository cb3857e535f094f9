import { readFileSync } from 'node:fs'

type Env = Record<string, string | undefined>

/**
 * A secret given either as NAME or as NAME_FILE (a path, as Docker and Swarm secrets mount them).
 * The file is read once, at start; one trailing newline is dropped, since editors and `echo` add it.
 * Throws `fail(message)` when both are set or the file cannot be read; the message never holds the value.
 */
export function readSecret(env: Env, name: string, fail: (message: string) => Error): string | undefined {
  const plain = env[name]
  const path = env[`${name}_FILE`]
  const hasPlain = plain !== undefined && plain !== ''
  if (path === undefined || path === '') return hasPlain ? plain : undefined
  if (hasPlain) throw fail(`${name} and ${name}_FILE are both set: use one of them`)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
    throw fail(`${name}_FILE: cannot read ${path} (${code})`)
  }
  const value = text.replace(/\r?\n$/, '')
  if (value === '') throw fail(`${name}_FILE: ${path} is empty`)
  return value
}
