/**
 * @module The stream edges' series: open subscribers per transport (`ws` the account stream,
 * `ws_instance` RyzeAPI's `/ws/:instance`, `sse`), frames sent, slow consumers, resumes; with
 * HUB_METRICS_PER_ACCOUNT, subscribers per account too.
 */
import type { Registry } from 'prom-client'
import type { StreamCounts } from '../stream/counts.js'
import { counterOf, gaugeOf, one, type Sample } from './series.js'

export type Transport = 'ws' | 'ws_instance' | 'sse'

export interface StreamView {
  counts: StreamCounts
  subscribers(): Record<Transport, number>
  /** Open subscribers by account id and transport. */
  subscribersByAccount(): Map<number, Record<Transport, number>>
}

const TRANSPORTS: readonly Transport[] = ['ws', 'ws_instance', 'sse']

export function streamSeries(registry: Registry, stream: StreamView, accountName: ((id: number) => string | undefined) | null): void {
  const { counts } = stream
  gaugeOf(registry, {
    name: 'statushub_stream_subscribers',
    help: 'Open stream connections by transport.',
    labelNames: ['transport'],
    read: () => {
      const n = stream.subscribers()
      return TRANSPORTS.map((transport) => ({ labels: { transport }, value: n[transport] }))
    },
  })
  counterOf(registry, {
    name: 'statushub_stream_frames_total',
    help: 'Data frames sent to stream clients (snapshots, resumed, changes once per subscribed socket, SSE events, /ws/:instance events).',
    labelNames: [],
    read: () => one(counts.frames),
  })
  counterOf(registry, {
    name: 'statushub_stream_slow_consumer_total',
    help: 'Stream clients closed for falling behind (WebSocket 4008, SSE streams ended for their backlog).',
    labelNames: [],
    read: () => one(counts.slowConsumers),
  })
  counterOf(registry, {
    name: 'statushub_stream_resumes_total',
    help: 'Resumes (`since`, `Last-Event-ID`) answered with the missed changes (`recovered`) or with a snapshot.',
    labelNames: ['result'],
    read: () => [
      { labels: { result: 'recovered' }, value: counts.recovered },
      { labels: { result: 'snapshot' }, value: counts.resumedWithSnapshot },
    ],
  })
  if (accountName === null) return
  gaugeOf(registry, {
    name: 'statushub_account_stream_subscribers',
    help: 'Open stream connections of each account by transport (HUB_METRICS_PER_ACCOUNT).',
    labelNames: ['account', 'transport'],
    read: () => {
      const out: Sample<'account' | 'transport'>[] = []
      for (const [id, n] of stream.subscribersByAccount()) {
        const account = accountName(id)
        if (account === undefined) continue
        for (const transport of TRANSPORTS) out.push({ labels: { account, transport }, value: n[transport] })
      }
      return out
    },
  })
}
