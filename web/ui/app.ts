// The status page: polls the service's own JSON API and renders it. No framework, no third-party code.

type ServiceState = 'up' | 'down'

interface Check {
  status: ServiceState
  latency_ms: number
  version: string | null
  error?: string
}

interface Health {
  status: 'healthy' | 'degraded' | 'unhealthy'
  services: { web: { status: 'up'; version: string; uptime_s: number }; db: Check; cache: Check }
  cache_stats: { hits: number; misses: number; hit_ratio: number | null }
}

interface VisitTotal {
  label: string
  total: number
  cached: boolean
}

interface RecentVisits {
  visits: Array<{ id: number; visited_at: string }>
}

interface User {
  id: number
  username: string
  email: string
  created_at: string
  updated_at: string
}

interface UserPage {
  total: number
  limit: number
  offset: number
  users: User[]
  cached: boolean
}

interface StoredValue {
  key: string
  value: unknown
  ttl: number
}

interface ErrorBody {
  error: string
  message: string
}

/** Result of one API call: the parsed body and status, or why there is none. */
type Reply<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: string; message: string }

const POLL_MS = 3000
const USERS_EVERY = 5 // users are refreshed every fifth poll (and on paging)
const USERS_PAGE = 10
const REQUEST_TIMEOUT_MS = 8000

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`missing #${id}`)
  return element as T
}

const numberFormat = new Intl.NumberFormat('en-US')
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' })

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' && body !== null && 'message' in body && typeof (body as ErrorBody).message === 'string'
  )
}

async function api<T>(path: string, init: RequestInit = {}, acceptStatus: number[] = []): Promise<Reply<T>> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS)
  try {
    const response = await fetch(path, {
      ...init,
      signal: controller.signal,
      headers: { accept: 'application/json', ...init.headers }
    })
    const text = await response.text()
    let body: unknown = null
    try {
      body = text === '' ? null : (JSON.parse(text) as unknown)
    } catch {
      body = null
    }
    if (response.ok || acceptStatus.includes(response.status))
      return { ok: true, status: response.status, body: body as T }
    if (isErrorBody(body)) return { ok: false, status: response.status, error: body.error, message: body.message }
    return { ok: false, status: response.status, error: 'http_error', message: `HTTP ${response.status}` }
  } catch (err) {
    const aborted = err instanceof DOMException && err.name === 'AbortError'
    return {
      ok: false,
      status: 0,
      error: 'unreachable',
      message: aborted ? 'The web service did not answer in time.' : 'The web service cannot be reached.'
    }
  } finally {
    clearTimeout(timer)
  }
}

/** "15.4 (Debian 15.4-1.pgdg120+1)" -> "15.4"; the full string stays in the tooltip. */
function shortVersion(version: string | null): string {
  if (version === null) return '—'
  return version.split(' ')[0] ?? version
}

function setTitle(selector: string, title: string | null): void {
  const node = document.querySelector(selector)
  if (node === null) return
  if (title === null) node.removeAttribute('title')
  else node.setAttribute('title', title)
}

function formatMs(ms: number): string {
  if (ms < 1) return '< 1 ms'
  if (ms < 10) return `${ms.toFixed(1)} ms`
  return `${Math.round(ms)} ms`
}

function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds))
  const days = Math.floor(s / 86400)
  const hours = Math.floor((s % 86400) / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  const seconds = s % 60
  if (days > 0) return `${days} d ${hours} h`
  if (hours > 0) return `${hours} h ${minutes} min`
  if (minutes > 0) return `${minutes} min ${seconds} s`
  return `${seconds} s`
}

function relative(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000)
  if (seconds < 5) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86400)} d ago`
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  if (text !== undefined) node.textContent = text
  return node
}

// ---- services and alerts ----------------------------------------------------

function renderService(
  name: 'web' | 'db' | 'cache',
  state: ServiceState | 'unknown',
  facts: Record<string, string>,
  error?: string
): void {
  const card = document.querySelector<HTMLElement>(`[data-service="${name}"]`)
  if (card === null) return
  card.dataset.state = state
  const status = card.querySelector('.status-text')
  if (status !== null) status.textContent = state === 'unknown' ? 'unknown' : state === 'up' ? 'up' : 'down'
  for (const [cls, value] of Object.entries(facts)) {
    const dd = card.querySelector(`.${cls}`)
    if (dd !== null) dd.textContent = value
  }
  let note = card.querySelector<HTMLElement>('.service-error')
  if (error !== undefined) {
    if (note === null) {
      note = el('p', { class: 'service-error' })
      card.append(note)
    }
    note.textContent = `Check failed: ${error}`
  } else {
    note?.remove()
  }
}

interface Alert {
  id: string
  level: 'warning' | 'danger'
  title: string
  body: string
}

function alertsFor(health: Health | null, unreachable: string | null): Alert[] {
  if (unreachable !== null) {
    return [
      {
        id: 'web',
        level: 'danger',
        title: 'The web service is not answering',
        body: `${unreachable} The figures below are the last ones received; the page keeps retrying every ${POLL_MS / 1000} s.`
      }
    ]
  }
  if (health === null) return []
  const alerts: Alert[] = []
  const { db, cache } = health.services
  if (db.status === 'down') {
    alerts.push({
      id: 'db',
      level: 'danger',
      title: `PostgreSQL (db) is down${db.error ? `: ${db.error}` : ''}`,
      body:
        'Visits cannot be stored, so the homepage answers 503, and users cannot be read or changed. ' +
        'Nothing already stored is lost; everything resumes by itself when PostgreSQL is back.'
    })
  }
  if (cache.status === 'down') {
    alerts.push({
      id: 'cache',
      level: db.status === 'down' ? 'danger' : 'warning',
      title: `Redis (cache) is down${cache.error ? `: ${cache.error}` : ''}`,
      body:
        db.status === 'down'
          ? 'The key/value API is unavailable too. When Redis is back the cache refills from PostgreSQL.'
          : 'The service still works: visits are still counted and read from PostgreSQL, only slower and without the cache. ' +
            'The key/value API below is unavailable until Redis is back; then the cache refills by itself.'
    })
  }
  return alerts
}

let shownAlerts = ''

function renderAlerts(alerts: Alert[]): void {
  const key = JSON.stringify(alerts)
  if (key === shownAlerts) return // unchanged: do not make screen readers repeat it
  shownAlerts = key
  const box = $('alerts')
  box.replaceChildren(
    ...alerts.map((alert) => {
      const item = el('div', { class: `alert alert-${alert.level}`, 'data-alert': alert.id })
      const icon = el('span', { class: 'alert-icon', 'aria-hidden': 'true' }, alert.level === 'danger' ? '!' : '⚠')
      const text = el('div')
      text.append(el('p', { class: 'alert-title' }, alert.title), el('p', { class: 'alert-body' }, alert.body))
      item.append(icon, text)
      return item
    })
  )
}

const OVERALL_TEXT = {
  healthy: 'All systems up',
  degraded: 'Degraded: cache down',
  unhealthy: 'Unhealthy: database down'
} as const

function renderHealth(health: Health): void {
  const { web, db, cache } = health.services
  renderService('web', 'up', { uptime: formatDuration(web.uptime_s), version: `v${web.version}` })
  renderService(
    'db',
    db.status,
    { latency: db.status === 'up' ? formatMs(db.latency_ms) : '—', version: shortVersion(db.version) },
    db.error
  )
  renderService(
    'cache',
    cache.status,
    { latency: cache.status === 'up' ? formatMs(cache.latency_ms) : '—', version: shortVersion(cache.version) },
    cache.error
  )
  setTitle('[data-service="db"] .version', db.version)
  setTitle('[data-service="cache"] .version', cache.version)
  $('web-version').textContent = `web v${web.version}`

  const overall = $('overall')
  overall.dataset.state = health.status
  $('overall-text').textContent = OVERALL_TEXT[health.status]
  document.title = `${health.status === 'healthy' ? '' : `(${health.status}) `}web-db-cache · status`

  const { hits, misses, hit_ratio } = health.cache_stats
  const percent = hit_ratio === null ? null : Math.round(hit_ratio * 1000) / 10
  $('hit-ratio').textContent = percent === null ? '—' : `${percent}%`
  const meter = $('hit-meter')
  meter.setAttribute('aria-valuenow', String(percent ?? 0))
  meter.setAttribute('aria-valuetext', percent === null ? 'no cache reads yet' : `${percent} percent`)
  $('hit-meter-fill').style.width = `${percent ?? 0}%`
  $('hit-counts').textContent =
    hits + misses === 0
      ? 'No cache reads yet.'
      : `${numberFormat.format(hits)} ${hits === 1 ? 'hit' : 'hits'}, ${numberFormat.format(misses)} ${misses === 1 ? 'miss' : 'misses'} since the web service started.`
}

function renderUnknownServices(): void {
  for (const name of ['web', 'db', 'cache'] as const) {
    const card = document.querySelector<HTMLElement>(`[data-service="${name}"]`)
    if (card !== null) {
      card.dataset.state = 'unknown'
      const status = card.querySelector('.status-text')
      if (status !== null) status.textContent = 'no answer'
    }
  }
  const overall = $('overall')
  overall.dataset.state = 'unhealthy'
  $('overall-text').textContent = 'Web service unreachable'
  document.title = '(unreachable) web-db-cache · status'
}

// ---- visits -----------------------------------------------------------------

function renderVisits(reply: Reply<VisitTotal>): void {
  const source = $('visits-source')
  const badge = $('visits-source-badge')
  const text = $('visits-source-text')
  if (!reply.ok) {
    source.dataset.source = 'error'
    badge.textContent = 'unavailable'
    text.textContent = reply.message
    $('visits-total').classList.add('stale')
    return
  }
  const { total, cached } = reply.body
  $('visits-total').classList.remove('stale')
  $('visits-total').textContent = numberFormat.format(total)
  $('visits-total').dataset.value = String(total)
  source.dataset.source = cached ? 'cache' : 'db'
  badge.textContent = cached ? 'from cache' : 'from PostgreSQL'
  text.textContent = cached
    ? 'Last read was a cache hit in Redis.'
    : 'Last read missed the cache and came from PostgreSQL.'
}

let recentVisits: RecentVisits['visits'] = []

function renderRecent(reply: Reply<RecentVisits> | null): void {
  const error = $('recent-error')
  if (reply !== null) {
    if (reply.ok) {
      recentVisits = reply.body.visits
      error.hidden = true
    } else {
      error.hidden = false
      error.textContent = `Could not refresh: ${reply.message}`
    }
  }
  const now = Date.now()
  const list = $('recent-list')
  if (recentVisits.length === 0) {
    list.replaceChildren(el('li', { class: 'muted' }, 'No visits yet.'))
    return
  }
  list.replaceChildren(
    ...recentVisits.map((visit) => {
      const item = el('li')
      const date = new Date(visit.visited_at)
      item.append(
        el('span', { class: 'visit-id' }, `#${visit.id}`),
        el('time', { datetime: visit.visited_at, title: date.toISOString() }, timeFormat.format(date)),
        el('span', { class: 'muted visit-ago' }, relative(visit.visited_at, now))
      )
      return item
    })
  )
}

// ---- users ------------------------------------------------------------------

let usersOffset = 0
let usersTotal = 0
/** Reload the users on the next poll (set after a failure or a change of the services' state). */
let usersDue = true

let usersRequest = 0

async function loadUsers(): Promise<void> {
  // Paging and polling can overlap: only the answer to the latest request is shown.
  const mine = ++usersRequest
  const reply = await api<UserPage>(`/users?limit=${USERS_PAGE}&offset=${usersOffset}`)
  if (mine !== usersRequest) return
  const error = $('users-error')
  const badge = $('users-source')
  if (!reply.ok) {
    // Try again on the next poll rather than wait for the next scheduled users refresh.
    usersDue = true
    error.hidden = false
    error.textContent = `Could not load users: ${reply.message}`
    badge.dataset.source = 'error'
    badge.textContent = 'unavailable'
    return
  }
  error.hidden = true
  const page = reply.body
  usersTotal = page.total
  if (page.users.length === 0 && page.offset > 0 && page.total > 0) {
    // The page emptied (users were deleted): go back to the last page that has rows.
    usersOffset = Math.max(0, Math.floor((page.total - 1) / USERS_PAGE) * USERS_PAGE)
    return loadUsers()
  }
  badge.dataset.source = page.cached ? 'cache' : 'db'
  badge.textContent = page.cached ? 'from cache' : 'from PostgreSQL'
  const body = $('users-body')
  if (page.users.length === 0) {
    body.replaceChildren(el('tr', {}, ''))
    const row = body.firstElementChild as HTMLTableRowElement
    row.append(el('td', { colspan: '4', class: 'muted' }, 'No users yet.'))
  } else {
    body.replaceChildren(
      ...page.users.map((user) => {
        const row = el('tr', { 'data-user-id': String(user.id) })
        const created = new Date(user.created_at)
        const name = el('td', { class: 'username' })
        // On a phone the email column is hidden and the address shows under the username.
        name.append(el('span', {}, user.username), el('span', { class: 'email-inline' }, user.email))
        row.append(
          el('td', { class: 'num' }, String(user.id)),
          name,
          el('td', { class: 'email col-email' }, user.email),
          el('td', { class: 'col-created' }, '')
        )
        row.lastElementChild?.append(
          el('time', { datetime: user.created_at, title: created.toISOString() }, dateFormat.format(created))
        )
        return row
      })
    )
  }
  const first = page.users.length === 0 ? 0 : page.offset + 1
  const last = page.offset + page.users.length
  $('users-range').textContent = `${first}–${last} of ${numberFormat.format(page.total)}`
  $<HTMLButtonElement>('users-prev').disabled = page.offset === 0
  $<HTMLButtonElement>('users-next').disabled = last >= page.total
}

// ---- polling ----------------------------------------------------------------

let live = true
let pollTimer: ReturnType<typeof setTimeout> | undefined
let polls = 0
let polling = false
let lastState = ''

async function poll(): Promise<void> {
  if (polling) return
  polling = true
  document.body.dataset.polling = 'true'
  clearTimeout(pollTimer)
  try {
    const [health, visits, recent] = await Promise.all([
      api<Health>('/health', {}, [503]),
      api<VisitTotal>('/visits'),
      api<RecentVisits>('/visits/recent?limit=10')
    ])
    const state = health.ok ? health.body.status : 'unreachable'
    if (state !== lastState) {
      // A service went down or came back: the users' source changes too, so reload them now.
      usersDue = true
      lastState = state
    }
    if (health.ok) {
      renderHealth(health.body)
      renderAlerts(alertsFor(health.body, null))
    } else {
      renderUnknownServices()
      renderAlerts(alertsFor(null, health.message))
    }
    renderVisits(visits)
    renderRecent(recent)
    if (usersDue || polls % USERS_EVERY === 0) {
      usersDue = false
      await loadUsers()
    }
    polls += 1
    const stamp = timeFormat.format(new Date())
    $('updated').textContent = live
      ? `Updated ${stamp} · refreshing every ${POLL_MS / 1000} s`
      : `Updated ${stamp} · live updates paused`
    document.body.dataset.polls = String(polls)
  } finally {
    polling = false
    document.body.dataset.polling = 'false'
    schedule()
  }
}

function schedule(): void {
  clearTimeout(pollTimer)
  if (live && document.visibilityState !== 'hidden') pollTimer = setTimeout(() => void poll(), POLL_MS)
}

function setLive(on: boolean): void {
  live = on
  const toggle = $<HTMLButtonElement>('live-toggle')
  toggle.setAttribute('aria-pressed', String(on))
  $('live-state').textContent = on ? 'on' : 'off'
  if (on) void poll()
  else {
    clearTimeout(pollTimer)
    $('updated').textContent = 'Live updates paused'
  }
}

// ---- key/value form ---------------------------------------------------------

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
  const reply = await api<{ key: string; ttl: number; message: string }>('/cache', {
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

// ---- wiring -----------------------------------------------------------------

function start(): void {
  $('refresh-now').addEventListener('click', () => {
    void poll()
    void loadUsers()
  })
  $('live-toggle').addEventListener('click', () => setLive(!live))
  $('users-prev').addEventListener('click', () => {
    usersOffset = Math.max(0, usersOffset - USERS_PAGE)
    void loadUsers()
  })
  $('users-next').addEventListener('click', () => {
    if (usersOffset + USERS_PAGE < usersTotal) usersOffset += USERS_PAGE
    void loadUsers()
  })
  $('kv-form').addEventListener('submit', (event) => {
    event.preventDefault()
    void storeKey()
  })
  $('kv-read').addEventListener('click', () => {
    const key = currentKey()
    if (key !== null) void readKey(key)
  })
  $('kv-delete').addEventListener('click', () => void deleteKey())
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && live) void poll()
    else schedule()
  })
  // Relative times ("12 s ago") move on between polls.
  setInterval(() => renderRecent(null), 1000)
  void poll()
}

start()

export {}
