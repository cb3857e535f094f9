// "Try the cache API": store, read back and delete a value, and watch its time to live run out.
import { api } from '../api.js'
import type { StoreResult, StoredValue } from '../api-types.js'
import { $ } from '../dom.js'
import { formatDuration } from '../format.js'

let ttlTimer: ReturnType<typeof setInterval> | undefined
let entryExpiresAt = 0
let entryTtl = 0
let entryKey = ''

function kvMessage(text: string, tone: 'ok' | 'error' | 'info'): void {
  const result = $('kv-result')
  result.hidden = false
  const message = $('kv-message')
  message.textContent = text
  message.dataset.tone = tone
}

function hideEntry(): void {
  clearInterval(ttlTimer)
  $('kv-entry').hidden = true
  entryKey = ''
}

function tickTtl(): void {
  const left = Math.max(0, Math.ceil((entryExpiresAt - Date.now()) / 1000))
  $('kv-ttl-left').textContent = left > 0 ? `${formatDuration(left)} left` : 'expired'
  $('kv-ttl-fill').style.width = `${entryTtl > 0 ? Math.min(100, (left / entryTtl) * 100) : 0}%`
  $('kv-entry').dataset.expired = String(left === 0)
  if (left === 0) {
    clearInterval(ttlTimer)
    const key = entryKey
    // Ask the server: the key should be gone now.
    setTimeout(() => {
      if (key === entryKey) void readKey(key, true)
    }, 600)
  }
}

function showEntry(entry: StoredValue, initialTtl: number): void {
  entryKey = entry.key
  entryTtl = Math.max(initialTtl, entry.ttl)
  $('kv-entry').hidden = false
  $('kv-entry-key').textContent = entry.key
  $('kv-entry-value').textContent = JSON.stringify(entry.value, null, 2)
  clearInterval(ttlTimer)
  if (entry.ttl < 0) {
    $('kv-ttl-left').textContent = 'no expiry'
    $('kv-ttl-fill').style.width = '100%'
    return
  }
  entryExpiresAt = Date.now() + entry.ttl * 1000
  tickTtl()
  ttlTimer = setInterval(tickTtl, 250)
}

function authHeaders(): Record<string, string> {
  const token = $<HTMLInputElement>('kv-token').value.trim()
  return token === '' ? {} : { authorization: `Bearer ${token}` }
}

function describeFailure(reply: { status: number; message: string }): string {
  if (reply.status === 401) return `${reply.message} Open "API token" below the form and enter it.`
  return reply.message
}

function currentKey(): string | null {
  const input = $<HTMLInputElement>('kv-key')
  const key = input.value
  if (key.trim() === '') {
    input.setAttribute('aria-invalid', 'true')
    kvMessage('Enter a key first.', 'error')
    input.focus()
    return null
  }
  input.removeAttribute('aria-invalid')
  return key
}

async function readKey(key: string, afterExpiry = false): Promise<void> {
  const reply = await api<StoredValue>(`/cache/${encodeURIComponent(key)}`)
  if (reply.ok) {
    showEntry(reply.body, entryKey === key ? entryTtl : reply.body.ttl)
    kvMessage(`Read "${key}" back from Redis.`, 'ok')
  } else if (reply.status === 404) {
    hideEntry()
    kvMessage(
      afterExpiry ? `"${key}" has expired: Redis removed it.` : `No value stored under "${key}" (it may have expired).`,
      'info'
    )
  } else {
    hideEntry()
    kvMessage(describeFailure(reply), 'error')
  }
}

async function storeKey(): Promise<void> {
  const key = currentKey()
  if (key === null) return
  const ttlInput = $<HTMLInputElement>('kv-ttl')
  const ttl = Number(ttlInput.value)
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 2592000) {
    ttlInput.setAttribute('aria-invalid', 'true')
    kvMessage('TTL must be a whole number of seconds from 1 to 2,592,000 (30 days).', 'error')
    ttlInput.focus()
    return
  }
  ttlInput.removeAttribute('aria-invalid')
  const raw = $<HTMLInputElement>('kv-value').value
  let value: unknown
  try {
    value = JSON.parse(raw) as unknown
  } catch {
    value = raw // not JSON: store it as a string
  }
  const reply = await api<StoreResult>('/cache', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify({ key, value, ttl })
  })
  if (!reply.ok) {
    hideEntry()
    kvMessage(describeFailure(reply), 'error')
    return
  }
  kvMessage(`${reply.body.message}.`, 'ok')
  showEntry({ key, value, ttl: reply.body.ttl }, reply.body.ttl)
}

async function deleteKey(): Promise<void> {
  const key = currentKey()
  if (key === null) return
  const reply = await api<null>(`/cache/${encodeURIComponent(key)}`, { method: 'DELETE', headers: authHeaders() })
  if (reply.ok) {
    hideEntry()
    kvMessage(`Deleted "${key}".`, 'ok')
  } else if (reply.status === 404) {
    hideEntry()
    kvMessage(`Nothing to delete: no value under "${key}".`, 'info')
  } else {
    kvMessage(describeFailure(reply), 'error')
  }
}

export function wireKeyValueForm(): void {
  // The form posts to /cache only without JavaScript; here every action is a fetch with the token in a header.
  $('kv-form').addEventListener('submit', (event) => {
    event.preventDefault()
    void storeKey()
  })
  $('kv-read').addEventListener('click', () => {
    const key = currentKey()
    if (key !== null) void readKey(key)
  })
  $('kv-delete').addEventListener('click', () => void deleteKey())
}
