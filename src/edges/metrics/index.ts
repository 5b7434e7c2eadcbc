/**
 * @module The metrics edge: `GET /metrics` in Prometheus' text format from prom-client, one
 * registry per hub (never prom-client's global one: a process may run several hubs). It holds the
 * hub's series (instances, transitions, the write-behind), asks every other edge to register its
 * own, in a cluster adds the node's leases and engine connection, and exposes them with the
 * process's default Node metrics. Every value is read when Prometheus scrapes: the hot paths only
 * bump integers.
 */
import { Registry } from 'prom-client'
import type { ChangeBus } from '../../ports/bus.js'
import type { Edge } from '../../ports/edge.js'
import { metricsText } from '../../protocol/rest-responses.js'
import { sendBytes } from '../http/http.js'
import type { Router } from '../http/route.js'
import { clusterSeries, type ClusterView } from './cluster-series.js'
import { hubSeries, type MetricsHub } from './hub-series.js'
import { processRegistry } from './process.js'
import { Transitions } from './transitions.js'

export interface MetricsDeps {
  router: Router
  hub: MetricsHub
  bus: ChangeBus
  cfg: { metricsPerAccount: boolean }
  /** The edges whose series are exposed (each registers its own through Edge.metrics). */
  sources: readonly Edge[]
  /** Cluster mode only. */
  cluster?: ClusterView
}

export interface MetricsEdge extends Edge {
  /** This hub's series (without the process's). */
  readonly registry: Registry
}

export function metricsEdge(deps: MetricsDeps): MetricsEdge {
  const perAccount = deps.cfg.metricsPerAccount
  const registry = new Registry()
  const transitions = new Transitions(perAccount)
  const unsubscribe = deps.bus.subscribe(transitions)
  hubSeries(registry, deps.hub, transitions, perAccount)
  const accountName = perAccount ? (id: number) => deps.hub.account(id)?.name : null
  for (const edge of deps.sources) edge.metrics?.(registry, { accountName })
  if (deps.cluster !== undefined) clusterSeries(registry, deps.cluster)
  // Every series is registered by now; the merge lists the same metric objects, read at each scrape.
  const exposed = Registry.merge([processRegistry(), registry])

  deps.router.add(
    'get',
    '/metrics',
    {
      tag: 'Operations',
      who: 'metrics',
      description:
        'Prometheus metrics (text exposition format, from prom-client): instances by state, transitions, stream subscribers and frames, HTTP answers by route, the list cache, the write-behind, webhooks, and in a cluster the node\'s leases and engine connection, with the default Node metrics. Labels never name accounts or instances unless HUB_METRICS_PER_ACCOUNT=true.',
      response: metricsText,
      produces: 'text/plain',
    },
    async (ctx) => {
      const text = await exposed.metrics()
      sendBytes(ctx, 200, text, undefined, false, exposed.contentType)
    },
  )

  return {
    name: 'metrics',
    registry,
    stop() {
      unsubscribe()
    },
  }
}
