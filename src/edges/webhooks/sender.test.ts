import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openDb } from '../../adapters/sqlite/db.js'
import { SqliteOutbox } from '../../adapters/sqlite/outbox-store.js'
import { SqliteStore } from '../../adapters/sqlite/store.js'
import { MemoryOutbox } from '../../adapters/memory/outbox-store.js'
import { withSigningSecrets, withWebhookDisabled } from '../../core/config-updates.js'
import { defaultConfig, defaultWebhook, type InstanceConfig } from '../../core/integrations.js'
import { initialStatus } from '../../core/status.js'
import type { OutboxRow, OutboxStore } from '../../ports/outbox.js'
import type { PostClient, PostOutcome } from './client.js'
import { Sender, withEventPath, type SenderConfig, type SenderHub } from './sender.js'
import { newSigningSecret } from './signing.js'

const T0 = Date.UTC(2026, 0, 1)

type StoreKind = 'sqlite' | 'memory'

/** The sender over either outbox (the SQLite one of the embedded hub, the memory one of a cluster's deliverer): the same behaviour. */
function setup(kind: StoreKind, cfg: Partial<SenderConfig>, answer: (n: number, signal: AbortSignal) => Promise<PostOutcome> | PostOutcome) {
  let outbox: OutboxStore
  let insert: (rows: OutboxRow[]) => void
  let instanceId: number
  let close = () => {}
  if (kind === 'sqlite') {
    const opened = openDb(':memory:')
    const store = new SqliteStore(opened)
    const accountId = store.createAccount({ name: 'a', instanceLimit: 10, tokenHash: 'h', createdAt: '' })
    instanceId = store.createInstance({ accountId, name: 'i', apiInstanceName: 'x', tokenHash: 'h2', config: defaultConfig(), createdAt: '' }, initialStatus(''), '')
    outbox = new SqliteOutbox(opened)
    insert = (rows) => store.writeBatch({ statuses: [], changes: [], seqs: [], outbox: rows })
    close = () => opened.close()
  } else {
    const memory = new MemoryOutbox()
    instanceId = 1
    outbox = memory
    insert = (rows) => memory.insert(rows, rows[0]!.seq)
  }
  let config: InstanceConfig = { ...defaultConfig(), webhooks: { default: { ...defaultWebhook(), enabled: true, url: 'http://r.test/in', signingSecret: newSigningSecret() } } }
  const hub: SenderHub = {
    instance: () => ({ config }),
    disableWebhook: (_id, label) => void (config = withWebhookDisabled(config, label)),
    giveSigningSecrets: () => void (config = withSigningSecrets(config, newSigningSecret)),
  }
  const calls: { at: number; url: string; id: string }[] = []
  const client: PostClient = {
    post: async (url, headers, _body, signal) => {
      calls.push({ at: Date.now() - T0, url, id: headers['webhook-id']! })
      return answer(calls.length, signal)
    },
    close: async () => {},
  }
  const full: SenderConfig = { webhookMaxAgeS: 86400, webhookMaxPending: 10000, webhookConcurrency: 16, webhookRetryBaseMs: 1000, webhookRetryMaxMs: 3_600_000, ...cfg }
  const sender = new Sender(outbox, hub, client, full, { now: () => Date.now() }, pino({ level: 'silent' }), () => 0.5)
  let seq = 0
  const add = (n: number) => {
    const rows: OutboxRow[] = []
    for (let i = 0; i < n; i++) {
      seq++
      rows.push({ id: `msg_e_1_${seq}_default`, instanceId, label: 'default', event: 'instance.state', epoch: 'e', seq, version: seq, body: `{"seq":${seq}}`, createdAt: Date.now() })
    }
    sender.planned(rows)
    insert(rows)
    sender.committed(rows)
  }
  const list = () => outbox.list(instanceId, { limit: 500 })
  return { sender, add, list, calls, config: () => config, close }
}

describe.each(['sqlite', 'memory'] as const)('the webhook sender over the %s outbox', (kind) => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'setInterval', 'clearInterval', 'Date'] })
    vi.setSystemTime(T0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries with jittered doubling delays up to the max delay, then dead-letters at the max age', async () => {
    const s = setup(kind, { webhookRetryBaseMs: 1000, webhookRetryMaxMs: 8000, webhookMaxAgeS: 60 }, () => ({ kind: 'answered', status: 503 }))
    s.sender.start()
    s.add(1)
    await vi.advanceTimersByTimeAsync(61_000)
    // random() = 0.5: each delay is 0.75 × min(8 s, 1 s × 2^attempt); the last retry is moved to the age bound.
    expect(s.calls.map((c) => c.at)).toEqual([0, 750, 2250, 5250, 11250, 17250, 23250, 29250, 35250, 41250, 47250, 53250, 59250, 60000])
    expect(s.list().map((d) => [d.status, d.attempts, d.lastError])).toEqual([['dead', 14, 'HTTP 503']])
    expect(s.sender.stats()).toEqual({ delivered: 0, retried: 13, dead: 1, pending: 0, held: 0 })
    await s.sender.stop()
    s.close()
  })

  it('holds the next delivery of a webhook until the one before it succeeds', async () => {
    const s = setup(kind, {}, (n) => (n <= 2 ? { kind: 'failed', error: 'network error: ECONNREFUSED' } : { kind: 'answered', status: 200 }))
    s.sender.start()
    s.add(3)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(s.calls.map((c) => [c.at, c.id])).toEqual([
      [0, 'msg_e_1_1_default'],
      [750, 'msg_e_1_1_default'],
      [2250, 'msg_e_1_1_default'],
      [2250, 'msg_e_1_2_default'],
      [2250, 'msg_e_1_3_default'],
    ])
    expect(s.list().map((d) => [d.seq, d.status, d.attempts])).toEqual([
      [3, 'delivered', 1],
      [2, 'delivered', 1],
      [1, 'delivered', 3],
    ])
    expect(s.sender.stats()).toEqual({ delivered: 3, retried: 2, dead: 0, pending: 0, held: 0 })
    await s.sender.stop()
    s.close()
  })

  it('counts dead letters and keeps only the newest pending past the pending bound', async () => {
    const s = setup(kind, { webhookMaxPending: 4 }, () => ({ kind: 'answered', status: 500 }))
    s.add(10)
    s.sender.start()
    expect(s.list().map((d) => [d.seq, d.status])).toEqual([
      [10, 'pending'],
      [9, 'pending'],
      [8, 'pending'],
      [7, 'pending'],
      ...[6, 5, 4, 3, 2, 1].map((seq) => [seq, 'dead']),
    ])
    expect(s.list().at(-1)!.lastError).toBe('dropped: more than 4 deliveries pending for this webhook')
    expect(s.sender.stats()).toMatchObject({ dead: 6, pending: 4 })
    await s.sender.stop()
    s.close()
  })

  it('disables the webhook on 410 and dead-letters what was pending for it', async () => {
    const s = setup(kind, {}, () => ({ kind: 'answered', status: 410 }))
    s.sender.start()
    s.add(3)
    await vi.advanceTimersByTimeAsync(5000)
    expect(s.calls).toHaveLength(1)
    expect(s.list().map((d) => [d.seq, d.status, d.attempts, d.lastError])).toEqual([
      [3, 'dead', 0, 'HTTP 410: the receiver asked to stop; webhook disabled'],
      [2, 'dead', 0, 'HTTP 410: the receiver asked to stop; webhook disabled'],
      [1, 'dead', 1, 'HTTP 410: the receiver asked to stop; webhook disabled'],
    ])
    expect(s.config().webhooks.default).toMatchObject({ enabled: false, url: 'http://r.test/in' })
    await s.sender.stop()
    s.close()
  })

  it('leaves the attempt in flight at stop pending, with no attempt counted', async () => {
    const s = setup(kind, {}, (_n, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'stopped' }))))
    s.sender.start()
    s.add(1)
    await vi.advanceTimersByTimeAsync(10)
    expect(s.calls).toHaveLength(1)
    await s.sender.stop()
    expect(s.list().map((d) => [d.status, d.attempts, d.lastAttemptAt])).toEqual([['pending', 0, null]])
    s.close()
  })

  it('on drain lets the attempt in flight end and records it, starts no other, then stops', async () => {
    let answer: ((o: PostOutcome) => void) | null = null
    const s = setup(kind, {}, () => new Promise((resolve) => (answer = resolve)))
    s.sender.start()
    s.add(2)
    await vi.advanceTimersByTimeAsync(10)
    expect(s.calls).toHaveLength(1)
    const drained = s.sender.drain(5000)
    await vi.advanceTimersByTimeAsync(10)
    answer!({ kind: 'answered', status: 204 })
    await drained
    expect(s.list().map((d) => [d.seq, d.status, d.attempts])).toEqual([
      [2, 'pending', 0],
      [1, 'delivered', 1],
    ])
    expect(s.calls).toHaveLength(1)
    s.close()
  })

  it('holds at most a window of a backlog in memory while the receiver is down, then streams it in order', async () => {
    let up = false
    const s = setup(kind, { webhookRetryMaxMs: 1000 }, () => (up ? { kind: 'answered', status: 200 } : { kind: 'failed', error: 'network error: ECONNREFUSED' }))
    s.sender.start()
    s.add(2000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(s.sender.stats()).toMatchObject({ pending: 2000, held: 16 })
    up = true
    s.calls.length = 0
    let most = 0
    for (let t = 0; t < 200 && s.sender.stats().delivered < 2000; t++) {
      await vi.advanceTimersByTimeAsync(100)
      most = Math.max(most, s.sender.stats().held)
    }
    expect(s.calls.map((c) => c.id)).toEqual([...Array(2000).keys()].map((i) => `msg_e_1_${i + 1}_default`))
    expect(most).toBeLessThanOrEqual(16)
    expect(s.sender.stats()).toMatchObject({ delivered: 2000, pending: 0, held: 0 })
    await s.sender.stop()
    s.close()
  })

  it('keeps the newest 500 delivered per webhook when it prunes', async () => {
    const s = setup(kind, {}, () => ({ kind: 'answered', status: 204 }))
    s.sender.start()
    s.add(505)
    await vi.advanceTimersByTimeAsync(100)
    expect(s.sender.stats()).toEqual({ delivered: 505, retried: 0, dead: 0, pending: 0, held: 0 })
    expect(s.sender.prune()).toBe(5)
    const kept = s.list()
    expect([kept.length, kept[0]!.seq, kept.at(-1)!.seq]).toEqual([500, 505, 6])
    expect(kept.every((d) => d.body === null)).toBe(true)
    await s.sender.stop()
    s.close()
  })

  it('appends the event name to the URL path for byEvents, keeping the query', () => {
    expect(withEventPath('https://h.example/in', 'instance.state')).toBe('https://h.example/in/instance-state')
    expect(withEventPath('https://h.example/in/?k=v', 'instance.state')).toBe('https://h.example/in/instance-state?k=v')
    expect(withEventPath('https://h.example', 'instance.state')).toBe('https://h.example/instance-state')
  })
})
