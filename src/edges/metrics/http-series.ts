/**
 * @module The HTTP edge's series: answers by route name and status (never by request path), the
 * 429s among them, and the list cache's hits and misses.
 */
import type { Registry } from 'prom-client'
import type { Served } from '../http/served.js'
import { counterOf, one } from './series.js'

export interface HttpCounts {
  served: Served
  lists: { readonly hits: number; readonly misses: number }
}

export function httpSeries(registry: Registry, http: HttpCounts): void {
  counterOf(registry, {
    name: 'statushub_http_requests_total',
    help: 'HTTP answers by route (the route table\'s `METHOD /pattern`, `OTHER /pattern` for a 405, `unmatched` for an unknown path) and status code; a WebSocket upgrade answers 101.',
    labelNames: ['route', 'code'],
    read: () => [...http.served.entries()].map(({ route, code, count }) => ({ labels: { route, code: String(code) }, value: count })),
  })
  counterOf(registry, {
    name: 'statushub_rate_limited_total',
    help: 'HTTP requests refused with 429: the per-token, creation and per-address limits, and the per-account render and snapshot budgets.',
    labelNames: [],
    read: () => {
      let n = 0
      for (const e of http.served.entries()) if (e.code === 429) n += e.count
      return one(n)
    },
  })
  counterOf(registry, {
    name: 'statushub_list_cache_total',
    help: 'List requests answered from the rendered-list cache (`hit`) or rendered (`miss`).',
    labelNames: ['result'],
    read: () => [
      { labels: { result: 'hit' }, value: http.lists.hits },
      { labels: { result: 'miss' }, value: http.lists.misses },
    ],
  })
}
