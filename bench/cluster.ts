/**
 * @module Scenario 7, the cluster on NATS JetStream, each figure a ratio measured in the same run:
 * - list polling on a follower node (not the account's writer) against the embedded hub, the same
 *   100 instances on each (same names and settings; ids, tokens and times differ by a few bytes);
 * - change latency, a settings write to the diff frame a subscriber receives: embedded (write and
 *   subscriber on the one hub), cluster with the write sent to the account's writer node and the
 *   subscriber on another node, and with both on a non-writer node (the write takes one more hop);
 *   against the floor measured in the same run: a bare JetStream publish → ordered consumer round
 *   trip, plus one NATS request/reply for the cross-node path;
 * - writes per second through the fenced append (HTTP → the writer → publish conditional on the
 *   account's last sequence → applied), 32 in flight on one account, against raw JetStream
 *   publishes with the same concurrency;
 * - failover: `kill -9` of a worker holding a third of the sockets, time until every instance is
 *   connected again, against the lease TTL.
 * Every process is spawned here on 127.0.0.1 and stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import WebSocket from 'ws'
import { freePort, natsServerBinary } from '../src/app/loopback.js'
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { monoMs } from './lib/clock.js'
import { measureHttp, pairedRatios } from './lib/measure.js'
import { ROOT, SERVER_CORE, pinPrefix } from './lib/proc.js'
import { fmtCount, fmtNum, fmtRatio, fmtSpread, percentile, spread } from './lib/stats.js'

const ADMIN = 'bench-admin-token-0123456789'
const KEY = 'b'.repeat(64)

interface Proc {
  child: ChildProcess
  port: number
  out: () => string
  base: string
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`bench cluster: ${what} did not happen within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

class World {
  readonly procs: ChildProcess[] = []
  constructor(private readonly tmp: string) {}

  async nats(): Promise<{ url: string; stop(): void }> {
    const port = await freePort()
    const dir = mkdtempSync(join(this.tmp, 'nats-'))
    const child = spawn(natsServerBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' })
    this.procs.push(child)
    const url = `nats://127.0.0.1:${port}`
    await until(async () => {
      const nc = await connect({ servers: url, timeout: 500 })
      await nc.close()
      return true
    }, 'nats-server up')
    return { url, stop: () => child.kill('SIGKILL') }
  }

  /** A hub (`src/app/main.ts`) pinned to the server core; cluster mode when HUB_NATS_URL is given. */
  async hub(env: Record<string, string>): Promise<Proc> {
    const port = await freePort()
    const [cmd, ...pre] = [...pinPrefix(SERVER_CORE), process.execPath]
    const child = spawn(cmd!, [...pre, '--import', 'tsx', 'src/app/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        HUB_HOST: '127.0.0.1',
        HUB_PORT: String(port),
        HUB_DATA_DIR: mkdtempSync(join(this.tmp, 'hub-')),
        HUB_WHATSAPP: 'simulated',
        HUB_ADMIN_TOKEN: ADMIN,
        HUB_SECRET_KEY: KEY,
        HUB_LOG_LEVEL: 'warn',
        HUB_RATE_LIMIT_PER_MIN: '100000000',
        HUB_CREATE_RATE_LIMIT_PER_MIN: '100000000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    child.stderr!.on('data', (d) => (out += d))
    this.procs.push(child)
    const base = `http://127.0.0.1:${port}`
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, `the hub on ${port} ready`)
    return { child, port, out: () => out, base }
  }

  stop(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL')
  }
}

/** The `default` account token, as the first start printed it. */
async function tokenOf(procs: Proc[]): Promise<string> {
  let token: string | undefined
  await until(async () => {
    for (const p of procs) token ??= /Account "default" token \(shown once\): (\S+)/.exec(p.out())?.[1]
    return token !== undefined
  }, 'the default token printed')
  return token!
}

async function api(base: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${path}`, { method, headers: { token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
  return r.json()
}

async function seed(base: string, token: string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(4, '0')}`)
  for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((name) => api(base, token, 'POST', '/api/instance/new', { name })))
  return names
}

/** A raw subscriber: resolves each awaited change's arrival time by the instance name. */
async function subscriber(base: string, token: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { token } })
  const waiting = new Map<string, (t: number) => void>()
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString())
    if (f.type === 'diff') waiting.get(f.instance)?.(monoMs())
  })
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)))
  ws.send(JSON.stringify({ type: 'subscribe', id: '1', instances: '*' }))
  await new Promise((r) => ws.once('message', r))
  return {
    next: (name: string) => new Promise<number>((r) => waiting.set(name, (t) => (waiting.delete(name), r(t)))),
    close: () => ws.close(),
  }
}

/** Settings write → diff frame, `n` times, one at a time; ms per change. */
async function latency(writeBase: string, subBase: string, token: string, name: string, n: number): Promise<number[]> {
  const sub = await subscriber(subBase, token)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const arrived = sub.next(name)
    const t0 = monoMs()
    await api(writeBase, token, 'POST', `/api/instance/settings/${name}`, { keepOnlineStatus: i % 2 === 0 })
    out.push((await arrived) - t0)
  }
  sub.close()
  return out
}

/** The floor: a bare publish → ordered consumer round trip, and a bare request/reply, ms each. */
async function floor(url: string, n: number): Promise<{ publish: number[]; request: number[] }> {
  const nc = await connect({ servers: url })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'BENCH_FLOOR', subjects: ['bench.floor'] })
  const js = jetstream(nc)
  const c = await js.consumers.get('BENCH_FLOOR', { deliver_policy: DeliverPolicy.New })
  const msgs = await c.consume()
  const it = msgs[Symbol.asyncIterator]()
  const publish: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = monoMs()
    await js.publish('bench.floor', String(i))
    await it.next()
    publish.push(monoMs() - t0)
  }
  msgs.stop()
  const sub = nc.subscribe('bench.echo', { callback: (_e, m) => void m.respond(m.data) })
  const request: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = monoMs()
    await nc.request('bench.echo', 'x')
    request.push(monoMs() - t0)
  }
  sub.unsubscribe()
  await jsm.streams.delete('BENCH_FLOOR')
  await nc.close()
  return { publish, request }
}

/** `n` accounts of one instance each, created through `base`: each account's token and instance. */
async function seedAccounts(base: string, n: number): Promise<{ token: string; name: string }[]> {
  const out: { token: string; name: string }[] = []
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, async (_, j) => {
        const made = await api(base, ADMIN, 'POST', '/api/admin/accounts', { name: `bench-acct-${i + j}`, instanceLimit: 1 })
        if (typeof made.token !== 'string') throw new Error(`account create failed: ${JSON.stringify(made)}`)
        await api(base, made.token, 'POST', '/api/instance/new', { name: 'only' })
        return { token: made.token as string, name: 'only' }
      }),
    )
    out.push(...batch)
  }
  return out
}

/** Settings writes per second with `inFlight` at once for `ms`, each to the next of `targets` (an instance and its account's token). */
async function writeRate(base: string, targets: { token: string; name: string }[], inFlight: number, ms: number): Promise<number> {
  let done = 0
  const end = monoMs() + ms
  const t0 = monoMs()
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      for (let i = w; monoMs() < end; i += inFlight) {
        const t = targets[i % targets.length]!
        await api(base, t.token, 'POST', `/api/instance/settings/${t.name}`, { keepOnlineStatus: i % 2 === 0 })
        done++
      }
    }),
  )
  return done / ((monoMs() - t0) / 1000)
}

async function rawPublishRate(url: string, inFlight: number, ms: number): Promise<number> {
  const nc = await connect({ servers: url })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'] })
  const js = jetstream(nc)
  let done = 0
  const end = monoMs() + ms
  const t0 = monoMs()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (monoMs() < end) {
        await js.publish('bench.raw.1', '{"keepOnlineStatus":true}')
        done++
      }
    }),
  )
  const rate = done / ((monoMs() - t0) / 1000)
  await jsm.streams.delete('BENCH_RAW')
  await nc.close()
  return rate
}

/** One failover round on a fresh three-node cluster: seconds from kill -9 to all connected. */
async function failoverRound(tmp: string, n: number, ttlMs: number): Promise<number> {
  const w = new World(tmp)
  try {
    const nats = await w.nats()
    const nodes: Proc[] = []
    for (const id of ['a', 'b', 'c']) nodes.push(await w.hub({ HUB_NATS_URL: nats.url, HUB_NODE_ID: id, HUB_LEASE_TTL_MS: String(ttlMs) }))
    const [a, b] = nodes as [Proc, Proc, Proc]
    const token = await tokenOf(nodes)
    const names = await seed(a.base, token, n)
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name) => {
          await api(a.base, token, 'GET', `/api/instance/connect/${name}`)
          await api(a.base, token, 'POST', `/api/sim/${name}/scan`)
        }),
      )
    }
    const connected = async () => ((await api(a.base, token, 'GET', '/api/instance/list')).instances as { connection: { state: string } }[]).filter((i) => i.connection.state === 'connected').length
    await until(async () => (await connected()) === n, 'every instance connected', 120_000)
    const held = async () => ((await api(a.base, ADMIN, 'GET', '/api/admin/cluster')).nodes as { id: string; instances: number }[]).find((x) => x.id === 'b')?.instances ?? 0
    await until(async () => (await held()) > 0, 'b driving sockets')
    const t0 = monoMs()
    b.child.kill('SIGKILL')
    await until(async () => (await connected()) < n, 'b’s instances seen down', ttlMs + 30_000).catch(() => undefined)
    await until(async () => (await connected()) === n, 'every instance connected again', ttlMs + 120_000)
    return (monoMs() - t0) / 1000
  } finally {
    w.stop()
  }
}

export async function runCluster(ctx: BenchContext): Promise<ScenarioOutput> {
  const tmp = mkdtempSync(join(ctx.tmp, 'cluster-'))
  const n = 100
  const samples = ctx.quick ? 20 : 200
  const w = new World(tmp)
  const ratios: number[] = []
  const cells: { embedded: number[]; follower: number[] } = { embedded: [], follower: [] }
  let lat: Record<'embedded' | 'writerNode' | 'otherNode' | 'publish' | 'request', number[]> = { embedded: [], writerNode: [], otherNode: [], publish: [], request: [] }
  let writes = { fenced: 0, raw: 0, accounts: 0, accountsEmbedded: 0 }
  const accountsN = 100
  try {
    ctx.log('  starting nats-server, the embedded hub and two cluster nodes')
    const nats = await w.nats()
    const embedded = await w.hub({})
    const a = await w.hub({ HUB_NATS_URL: nats.url, HUB_NODE_ID: 'a' })
    const b = await w.hub({ HUB_NATS_URL: nats.url, HUB_NODE_ID: 'b' })
    const eToken = await tokenOf([embedded])
    const cToken = await tokenOf([a, b])
    const eNames = await seed(embedded.base, eToken, n)
    const cNames = await seed(a.base, cToken, n)
    // The account's writer: the node whose directory entry holds its writer lease.
    const writerId = ((await api(a.base, ADMIN, 'GET', '/api/admin/cluster')).nodes as { id: string; accounts: number }[]).find((x) => x.accounts > 0)?.id ?? 'a'
    const [writer, other] = writerId === 'a' ? [a, b] : [b, a]
    await until(async () => (await api(other.base, cToken, 'GET', '/api/instance/list')).instances?.length === n, 'the follower has every instance')

    ctx.log(`  seeded ${n} instances on each; the writer is node ${writerId}`)
    const seconds = ctx.quick ? 1 : 5
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`cluster round ${round + 1}`)
      const e = await measureHttp(ctx.loadgen, { url: `${embedded.base}/api/instance/list`, connections: 32, seconds, headers: { token: eToken } }, embedded.child.pid!)
      const f = await measureHttp(ctx.loadgen, { url: `${other.base}/api/instance/list`, connections: 32, seconds, headers: { token: cToken } }, other.child.pid!)
      cells.embedded.push(e.reqPerSec)
      cells.follower.push(f.reqPerSec)
    }
    ratios.push(...pairedRatios(cells.follower, cells.embedded))

    ctx.log('  change latency and its floor')
    const fl = await floor(nats.url, samples)
    lat = {
      embedded: await latency(embedded.base, embedded.base, eToken, eNames[0]!, samples),
      writerNode: await latency(writer.base, other.base, cToken, cNames[0]!, samples),
      otherNode: await latency(other.base, writer.base, cToken, cNames[1]!, samples),
      publish: fl.publish,
      request: fl.request,
    }
    ctx.log('  writes per second')
    const ms = ctx.quick ? 1000 : 5000
    const fenced = await writeRate(writer.base, cNames.map((name) => ({ token: cToken, name })), 32, ms)
    const raw = await rawPublishRate(nats.url, 32, ms)
    ctx.log(`  writes per second over ${accountsN} accounts`)
    const cAccounts = await seedAccounts(a.base, accountsN)
    const eAccounts = await seedAccounts(embedded.base, accountsN)
    writes = { fenced, raw, accounts: await writeRate(a.base, cAccounts, 32, ms), accountsEmbedded: await writeRate(embedded.base, eAccounts, 32, ms) }
  } finally {
    w.stop()
  }

  const ttl = ctx.quick ? 3000 : 15_000
  const failN = ctx.quick ? 12 : 99
  const failovers: number[] = []
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
    ctx.log(`  failover round ${i + 1}`)
    failovers.push(await failoverRound(tmp, failN, ttl))
  }
  rmSync(tmp, { recursive: true, force: true })

  const p = (xs: number[], q: number) => percentile(xs, q)
  const floorOne = p(lat.publish, 50)
  const floorTwo = p(lat.publish, 50) + p(lat.request, 50)
  const listRatio = spread(ratios).median
  const failMedian = spread(failovers).median
  const numbers: Record<string, number> = {
    'list.followerVsEmbedded': listRatio,
    'list.embeddedReqPerSec': spread(cells.embedded).median,
    'list.followerReqPerSec': spread(cells.follower).median,
    'latency.embeddedP50': p(lat.embedded, 50),
    'latency.writerNodeP50': p(lat.writerNode, 50),
    'latency.writerNodeP99': p(lat.writerNode, 99),
    'latency.otherNodeP50': p(lat.otherNode, 50),
    'latency.otherNodeP99': p(lat.otherNode, 99),
    'latency.floorPublishP50': floorOne,
    'latency.floorRequestP50': p(lat.request, 50),
    'writes.fencedPerSec': writes.fenced,
    'writes.rawPublishPerSec': writes.raw,
    'writes.accountsPerSec': writes.accounts,
    'writes.accountsEmbeddedPerSec': writes.accountsEmbedded,
    'failover.seconds': failMedian,
  }
  const headline: Headline[] = [
    { figure: 'Cluster: list polling on a follower node / the embedded hub', value: fmtRatio(listRatio), median: listRatio, target: '≥ 0.9×', met: listRatio >= 0.9 },
    {
      figure: 'Cluster: change latency p50, write on a non-writer node → subscriber, / its floor (publish round trip + request/reply)',
      value: `${fmtNum(p(lat.otherNode, 50))} ms / ${fmtNum(floorTwo)} ms = ${fmtRatio(p(lat.otherNode, 50) / floorTwo)}`,
      median: p(lat.otherNode, 50) / floorTwo,
      target: '≤ 1.5×',
      met: p(lat.otherNode, 50) / floorTwo <= 1.5,
    },
    {
      figure: `Cluster: failover, kill -9 of a worker (${failN} instances on 3 nodes, TTL ${ttl / 1000} s), until all connected`,
      value: `${fmtNum(failMedian, 1)} s`,
      median: failMedian,
      target: `< TTL + 5 s = ${ttl / 1000 + 5} s`,
      met: failMedian < ttl / 1000 + 5,
    },
  ]
  const row = (label: string, xs: number[], fl: number) => [label, fmtNum(p(xs, 50)), fmtNum(p(xs, 99)), fmtNum(fl), fmtRatio(p(xs, 50) / fl)]
  return {
    name: 'cluster',
    title: '7. Cluster (NATS JetStream)',
    result: { cells, ratios, lat, writes, failovers },
    tables: [
      {
        title: 'Cluster: list polling, `GET /api/instance/list` (100 instances), 32 connections',
        headers: ['server', 'req/s (median of rounds)', 'ratio to embedded'],
        rows: [
          ['embedded hub', fmtSpread(spread(cells.embedded)), '1.00×'],
          ['follower node (not the writer)', fmtSpread(spread(cells.follower)), fmtRatio(listRatio)],
        ],
        notes: ['Both serve the list from their own cached bytes; the follower applied the same changes from the stream.'],
      },
      {
        title: `Cluster: change latency, settings write → diff frame at a subscriber (${samples} one at a time), ms`,
        headers: ['path', 'p50', 'p99', 'floor p50', 'p50 / floor'],
        rows: [
          row('embedded (one process)', lat.embedded, floorOne),
          row('write to the writer node, subscriber on the other', lat.writerNode, floorOne),
          row('write to a non-writer node (one more hop), subscriber on the writer', lat.otherNode, floorTwo),
        ],
        notes: [
          `Floor, measured in the same run: a bare JetStream publish → ordered consumer round trip (p50 ${fmtNum(floorOne)} ms), plus one request/reply (p50 ${fmtNum(p(lat.request, 50))} ms) for the cross-node path. The cluster figures include the HTTP request and the write's own acknowledgement; the embedded row is given against the same floor only for scale.`,
        ],
      },
      {
        title: 'Cluster: writes per second, 32 in flight, one account',
        headers: ['path', 'per second', 'ratio'],
        rows: [
          ['raw JetStream publish (no HTTP, no fence)', fmtCount(writes.raw), '1.00×'],
          ['settings write: HTTP → writer → fenced append → applied', fmtCount(writes.fenced), fmtRatio(writes.fenced / writes.raw)],
        ],
        notes: ['One account has one writer, so its writes are ordered one after another; accounts spread over workers by count.'],
      },
      {
        title: `Cluster: writes per second, 32 in flight, spread over ${accountsN} accounts (one instance each), all sent to node a`,
        headers: ['path', 'per second', 'ratio'],
        rows: [
          ['embedded hub, same load', fmtCount(writes.accountsEmbedded), '1.00×'],
          ['two cluster nodes: HTTP → the account’s writer (a or b) → fenced append → applied', fmtCount(writes.accounts), fmtRatio(writes.accounts / writes.accountsEmbedded)],
          ['one cluster account (above), for scale', fmtCount(writes.fenced), fmtRatio(writes.fenced / writes.accountsEmbedded)],
        ],
        notes: ['Writer leases spread over both workers, so about half of the writes are routed from a to b by request/reply; different accounts append in parallel.'],
      },
      {
        title: 'Cluster: failover',
        headers: ['instances', 'TTL', 'kill -9 → all connected (s)'],
        rows: [[String(failN), `${ttl / 1000} s`, fmtSpread(spread(failovers), (x) => fmtNum(x, 1))]],
        notes: ['A fresh three-node cluster each round; the killed worker drove about a third of the sockets; its leases expire after the TTL, then the others reconnect its numbers from their saved sessions.'],
      },
    ],
    headline,
    numbers,
  }
}
