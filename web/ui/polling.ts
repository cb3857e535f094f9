// The poll loop: every POLL_MS the page reads /health and the visits, and the users when due.
// Paused by the "Live updates" toggle and while the tab is hidden.
import { api } from './api.js'
import type { Health, RecentVisits, VisitTotal } from './api-types.js'
import { $ } from './dom.js'
import { timeFormat } from './format.js'
import { renderAlerts } from './panels/alerts.js'
import { renderHitRatio } from './panels/hit-ratio.js'
import { renderServices, renderUnknownServices } from './panels/services.js'
import { loadUsers, markUsersDue, refreshUsersIfDue } from './panels/users.js'
import { renderRecent, renderVisits } from './panels/visits.js'
import { POLL_MS } from './timing.js'

let live = true
let pollTimer: ReturnType<typeof setTimeout> | undefined
let polls = 0
let polling = false
let lastState = ''

export async function poll(): Promise<void> {
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
      markUsersDue()
      lastState = state
    }
    if (health.ok) {
      renderServices(health.body)
      renderHitRatio(health.body.cache_stats)
      renderAlerts(health.body, null)
    } else {
      renderUnknownServices()
      renderAlerts(null, health.message)
    }
    renderVisits(visits)
    renderRecent(recent)
    await refreshUsersIfDue(polls)
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

/** "Refresh now", "Live updates", and no polling while the tab is hidden. */
export function wireToolbar(): void {
  $('refresh-now').addEventListener('click', () => {
    void poll()
    void loadUsers()
  })
  $('live-toggle').addEventListener('click', () => setLive(!live))
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && live) void poll()
    else schedule()
  })
}
