// The three service cards, the overall badge in the top bar and the tab title.
import type { Health, ServiceState } from '../api-types.js'
import { $, el, setTitle } from '../dom.js'
import { formatDuration, formatMs, shortVersion } from '../format.js'

const OVERALL_TEXT = {
  healthy: 'All systems up',
  degraded: 'Degraded: cache down',
  unhealthy: 'Unhealthy: database down'
} as const

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

export function renderServices(health: Health): void {
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
  // Stand-in images (./run.sh --offline) are labelled as such, with the versions they really run.
  const images = $('stack-images')
  images.hidden = health.stack_images === undefined
  images.textContent = health.stack_images === undefined ? '' : `Stand-in images: ${health.stack_images}`

  const overall = $('overall')
  overall.dataset.state = health.status
  $('overall-text').textContent = OVERALL_TEXT[health.status]
  document.title = `${health.status === 'healthy' ? '' : `(${health.status}) `}web-db-cache · status`
}

export function renderUnknownServices(): void {
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
