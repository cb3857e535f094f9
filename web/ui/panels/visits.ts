// The homepage counter (and where it was read from) and the latest visits.
import type { Reply } from '../api.js'
import type { RecentVisits, VisitTotal } from '../api-types.js'
import { $, el } from '../dom.js'
import { numberFormat, relative, timeFormat } from '../format.js'

export function renderVisits(reply: Reply<VisitTotal>): void {
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

/** Shows a new reply, or with `null` the last list again with its relative times moved on. */
export function renderRecent(reply: Reply<RecentVisits> | null): void {
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

/** Relative times ("12 s ago") move on between polls. */
export function keepRecentTimesFresh(): void {
  setInterval(() => renderRecent(null), 1000)
}
