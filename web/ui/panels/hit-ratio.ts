// The cache hit ratio: a percentage, a meter and the counts behind them.
import type { Health } from '../api-types.js'
import { $ } from '../dom.js'
import { numberFormat } from '../format.js'

export function renderHitRatio({ hits, misses, hit_ratio, near }: Health['cache_stats']): void {
  renderNearCache(near)
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

/** The share of cached reads this web process answered from its own copies. */
function renderNearCache(near: Health['cache_stats']['near']): void {
  const percent = near.hit_ratio === null ? null : Math.round(near.hit_ratio * 1000) / 10
  $('near-cache').textContent = !near.enabled
    ? 'Near cache off (NEAR_CACHE_MAX_ENTRIES=0): every cached read goes to Redis.'
    : !near.tracking
      ? 'Near cache paused until Redis invalidations are on again: cached reads go to Redis.'
      : percent === null
        ? 'Near cache on: no reads yet.'
        : `Near cache: ${percent}% of cached reads answered by this web process from its own copies (${numberFormat.format(near.entries)} held).`
}
