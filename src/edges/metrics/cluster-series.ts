/**
 * @module A cluster node's series (cluster mode only): the leases it holds and whether it reaches
 * the engine. Summed over the nodes, the account leases are the accounts and the instance leases
 * the sockets being driven.
 */
import type { Registry } from 'prom-client'
import { gaugeOf, one } from './series.js'

export interface ClusterView {
  /** Leases this node holds: `instance` (socket leases), `account` (writer leases). */
  leases(kind: 'instance' | 'account'): number
  engineConnected(): boolean
}

export function clusterSeries(registry: Registry, cluster: ClusterView): void {
  gaugeOf(registry, {
    name: 'statushub_cluster_leases',
    help: 'Leases this node holds: `instance` (the WhatsApp sockets it drives), `account` (the accounts it writes).',
    labelNames: ['kind'],
    read: () => (['instance', 'account'] as const).map((kind) => ({ labels: { kind }, value: cluster.leases(kind) })),
  })
  gaugeOf(registry, {
    name: 'statushub_engine_connected',
    help: '1 while this node is connected to the cluster engine (NATS), else 0.',
    labelNames: [],
    read: () => one(cluster.engineConnected() ? 1 : 0),
  })
}
