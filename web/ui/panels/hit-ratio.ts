// The cache hit ratio: a percentage, a meter and the counts behind them.
import type { Health } from '../api-types.js'
import { $ } from '../dom.js'
import { numberFormat } from '../format.js'

export function renderHitRatio({ hits, misses, hit_ratio }: Health['cache_stats']): void {
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
