import type { BoolSetting, IntSetting, ListSetting, OptionalSetting, ScalarSetting, StringSetting } from './table.js'

export type Env = Record<string, string | undefined>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const configError = (message: string): ConfigError => new ConfigError(message)

export type SettingValue<S extends ScalarSetting> = S extends IntSetting
  ? number
  : S extends BoolSetting
    ? boolean
    : S extends StringSetting
      ? string
      : S extends OptionalSetting
        ? string | undefined
        : S extends ListSetting
          ? string[]
          : never

function readInt(raw: string | undefined, { env: name, default: fallback, min, max }: IntSetting): number {
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

function readBool(raw: string | undefined, { env: name, default: fallback }: BoolSetting): boolean {
  const value = raw?.trim().toLowerCase()
  if (value === undefined || value === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(value)) return true
  if (['0', 'false', 'no', 'off'].includes(value)) return false
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}

function readString(raw: string | undefined, { env: name, default: fallback, oneOf }: StringSetting): string {
  const value = raw === undefined || raw === '' ? fallback : raw
  if (oneOf !== undefined && !oneOf.includes(value))
    throw new ConfigError(`${name} must be one of ${oneOf.join(', ')}, got "${value}"`)
  return value
}

function readOptional(raw: string | undefined, { env: name, minLength }: OptionalSetting): string | undefined {
  if (raw === undefined || raw === '') return undefined
  if (minLength !== undefined && raw.length < minLength)
    throw new ConfigError(`${name} must be at least ${minLength} characters long`)
  return raw
}

function readList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** Parses one setting of the table from the environment, or throws a ConfigError naming it. */
export function readSetting<S extends ScalarSetting>(env: Env, setting: S): SettingValue<S> {
  const raw = env[setting.env]
  const s: ScalarSetting = setting
  switch (s.type) {
    case 'int':
      return readInt(raw, s) as SettingValue<S>
    case 'bool':
      return readBool(raw, s) as SettingValue<S>
    case 'string':
      return readString(raw, s) as SettingValue<S>
    case 'optional':
      return readOptional(raw, s) as SettingValue<S>
    case 'list':
      return readList(raw) as SettingValue<S>
  }
}

export function parseUrl(name: string, raw: string, protocols: string[]): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Never echo the value: it may hold a password.
    throw new ConfigError(`${name} is not a valid URL`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`)
  }
  return url
}
