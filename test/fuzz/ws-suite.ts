/**
 * The WebSocket fuzz run shared by the short pass (npm test) and `npm run fuzz`; the sizes differ.
 * The hub's frame-rate limit is raised (HUB_WS_MAX_FRAMES_PER_SEC) so one socket can carry
 * thousands of frames a second; the limit itself has its own tests.
 */
import { expect } from 'vitest'
import { call, PROC_ADMIN } from '../helpers/hub-process.js'
import { until } from '../helpers/wait.js'
import { openClientTo } from './ws-client.js'
import { connectDropStorm, fuzzFrames, fuzzViolations, neverReading, subscribeFlood, type WsFuzzStats } from './ws-driver.js'
import type { FuzzHub } from './fixture.js'

export const WS_FUZZ_ENV = { HUB_WS_MAX_FRAMES_PER_SEC: '1000000' }

const MB = 1024 * 1024

export interface WsSizes {
  frames: number
  /** Connected simulated instances in the second account, whose changes flow. */
  flowInstances: number
  sockets: number
  violationTimes: number
  storm: number
  slowSockets: number
  changes: number
  /**
   * Whether never-reading sockets must have been closed with 4008 by the end: only when the
   * changes are many more bytes than the kernel's socket buffers hold (about 4 MB here).
   */
  slowMustClose: boolean
  /** Never-reading sockets that keep subscribing; null leaves the phase out. */
  flood: { sockets: number; subscribes: number } | null
  seed: number
}

/** A second account whose simulated instances are connected, for changes that flow. */
async function flowAccount(f: FuzzHub, instances: number): Promise<{ token: string; names: string[] }> {
  const account = await call(f.port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'flow', instanceLimit: 100 })
  const token = account.json.token as string
  const names = Array.from({ length: instances }, (_, i) => `flow-${i}`)
  for (const name of names) {
    await call(f.port, 'POST', '/api/instance/new', token, { name })
    await call(f.port, 'GET', `/api/instance/connect/${name}`, token)
    await call(f.port, 'POST', `/api/sim/${name}/scan`, token)
  }
  await until(async () => (await call(f.port, 'GET', '/api/instance/list', token)).json.instances.every((i: any) => i.status === 'connected'), { what: 'flow instances connected', ms: 20_000 })
  return { token, names }
}

export async function runWsSuite(f: FuzzHub, z: WsSizes, log: (s: string) => void = () => {}): Promise<void> {
  const flow = await flowAccount(f, z.flowInstances)
  const before = await f.fingerprint()
  const rss0 = f.rss()

  // In quarters: memory that keeps growing with the frames sent is a leak, growth that levels off is not.
  let frames: WsFuzzStats | undefined
  const rssAt: number[] = []
  const heapAt: number[] = [await f.heap()]
  for (let q = 0; q < 4; q++) {
    frames = await fuzzFrames(f.port, f.accountToken, { total: z.frames / 4, sockets: z.sockets, seed: z.seed + q * 1000, stats: frames })
    rssAt.push(f.rss())
    heapAt.push(await f.heap())
  }
  const mb = (xs: number[]) => xs.map((r) => (r / MB).toFixed(1)).join(' → ')
  log(`frames: ${frames!.frames} sent, ${frames!.received} received ${JSON.stringify(frames!.byType)}, closes ${JSON.stringify(frames!.closes)}; RSS ${mb([rss0, ...rssAt])} MB; heap after GC ${mb(heapAt)} MB`)
  // Nothing of a closed socket is kept: the heap after a collection is back where it started.
  expect(heapAt[4]! - heapAt[0]!).toBeLessThan(8 * MB)
  expect({ seed: z.seed, problemCount: frames!.problemCount, problems: frames!.problems }).toEqual({ seed: z.seed, problemCount: 0, problems: [] })
  expect(frames!.frames).toBeGreaterThanOrEqual(z.frames)
  expect(frames!.byType.error).toBeGreaterThan(frames!.frames / 4)
  expect(frames!.byType.snapshot).toBeGreaterThan(0)

  const violations = await fuzzViolations(f.port, f.accountToken, z.violationTimes)
  log(`violations: ${violations.map((v) => `${v.name}: ${v.closed} closed ${JSON.stringify(v.codes)}, ${v.served} served`).join('; ')}`)
  for (const v of violations) expect({ name: v.name, hung: v.hung, problems: v.problems }).toEqual({ name: v.name, hung: 0, problems: [] })
  // Over the frame limit is 1009 (stream contract); past the transport cap uWS drops the connection.
  expect(violations.find((v) => v.name === 'frame over HUB_WS_MAX_FRAME_BYTES')!.codes).toEqual({ 1009: z.violationTimes })

  const storm = await connectDropStorm(f.port, f.accountToken, z.storm, 50)
  log(`storm: ${JSON.stringify(storm)}; RSS ${(f.rss() / MB).toFixed(0)} MB`)
  // After the storm a new subscriber is served at once.
  const c = await openClientTo(f.port, f.accountToken)
  c.send({ type: 'subscribe', id: 'after', instances: '*' })
  expect((await c.next((x) => x.id === 'after')).type).toBe('snapshot')
  await c.close()

  const longText = (i: number) => `${i}-${'n'.repeat(240)}`
  const heapBeforeSlow = await f.heap()
  const slow = await neverReading(f.port, flow.token, {
    slowSockets: z.slowSockets,
    snapshots: 1,
    changes: z.changes,
    // Past what the kernel's buffers (about 4 MB here) and twice HUB_WS_MAX_BUFFER_BYTES hold, so
    // each slow socket has had its 4008 a few MB ago: read sooner than uWS drops it (END_TIMEOUT_S).
    readAfterBytes: 8 * MB,
    change: (i) => call(f.port, 'POST', `/api/sim/${flow.names[i % flow.names.length]}/profile`, flow.token, { name: longText(i), businessName: longText(i), pictureUrl: `https://pps.example.test/${'p'.repeat(1900)}/${i}.jpg` }),
    head: async () => Number((await fetch(`http://127.0.0.1:${f.port}/api/instance/list`, { headers: { token: flow.token } })).headers.get('x-hub-seq')),
    rss: f.rss,
  })
  const heapAfterSlow = await f.heap()
  log(
    `never-reading: ${slow.seqs.length} changes (${slow.fromSeq} → ${slow.head}) to the reader; slow sockets ${JSON.stringify(slow.slow)}; ` +
      `RSS ${(slow.rssBefore / MB).toFixed(0)} → peak ${(slow.rssPeak / MB).toFixed(0)} MB; heap after GC ${(heapBeforeSlow / MB).toFixed(1)} → ${(heapAfterSlow / MB).toFixed(1)} MB`,
  )
  // The reader got every change, in order, with no gap: the slow sockets delayed nothing.
  expect(slow.seqs.length).toBeGreaterThanOrEqual(z.changes)
  expect(slow.seqs).toEqual(Array.from({ length: slow.head - slow.fromSeq }, (_, i) => slow.fromSeq + 1 + i))
  for (const s of slow.slow) {
    if (z.slowMustClose) expect(s).toEqual({ closed: true, code: 4008 })
    else expect([{ closed: true, code: 4008 }, { closed: false, code: null }]).toContainEqual(s)
  }
  // What stays is the change ring (HUB_STREAM_RING_SIZE changes per account, these of about 2.6 KB);
  // the peak adds the garbage of thousands of requests not yet collected.
  expect(heapAfterSlow - heapBeforeSlow).toBeLessThan(64 * MB)
  expect(slow.rssPeak - slow.rssBefore).toBeLessThan(256 * MB)

  expect(await f.fingerprint()).toBe(before)
  expect(f.hub.child.exitCode).toBeNull()
  log(`RSS ${(rss0 / MB).toFixed(0)} → ${(f.rss() / MB).toFixed(0)} MB`)
  expect(f.rss() - rss0).toBeLessThan(256 * MB)

  // Last: sockets closed here cannot disturb the phases above.
  if (z.flood !== null) {
    const heap0 = await f.heap()
    const flood = await subscribeFlood(f.port, flow.token, { ...z.flood, rss: f.rss })
    const heap1 = await f.heap()
    log(
      `subscribe flood: ${z.flood.sockets} never-reading sockets × ${z.flood.subscribes} subscribes: RSS +${(flood.growth / MB).toFixed(0)} MB at the peak; ` +
        `${flood.closed} closed ${JSON.stringify(flood.codes)}; heap after GC ${(heap0 / MB).toFixed(1)} → ${(heap1 / MB).toFixed(1)} MB once they are gone`,
    )
    expect((await fetch(`http://127.0.0.1:${f.port}/healthz`)).status).toBe(200)
    expect(heap1 - heap0).toBeLessThan(8 * MB)
    // Answers a socket does not read are bounded, as changes are: one answer in flight, 8
    // subscribes waiting, then 64 refusals while the hub holds its unread bytes, and 4008.
    expect(flood.codes).toEqual({ 4008: z.flood.sockets })
    expect(flood.growth).toBeLessThan(128 * MB)
  }
}
