/**
 * @module An edge: something the composition root starts after the hub has loaded and stops before
 * the hub flushes (a transport, a sender, an exporter). Edges are started in list order and
 * stopped in reverse, so the listener, started last, stops first.
 */
import type { Registry } from 'prom-client'

export interface Edge {
  /** For logs and errors. */
  readonly name: string
  start?(): void | Promise<void>
  stop(): void | Promise<void>
  /** Registers this edge's series; values are computed at scrape time, never on a hot path. */
  metrics?(registry: Registry, opts: MetricsOptions): void
}

export interface MetricsOptions {
  /**
   * With HUB_METRICS_PER_ACCOUNT, the name of an account by id (undefined once deleted), for
   * series labelled `account`; null otherwise, and then no label names an account or instance.
   */
  accountName: ((accountId: number) => string | undefined) | null
}
