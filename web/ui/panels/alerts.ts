// What an outage means, in plain words, above the figures.
import type { Health } from '../api-types.js'
import { $, el } from '../dom.js'
import { POLL_MS } from '../timing.js'

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

/** Alerts for the services' state, or for the web service itself when `unreachable` says why it is not answering. */
export function renderAlerts(health: Health | null, unreachable: string | null): void {
  const alerts = alertsFor(health, unreachable)
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
