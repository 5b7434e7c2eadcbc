/**
 * @module Scenario 3, fan-out: 1,000, 5,000 and 10,000 WebSocket subscribers of one account
 * (`"instances":"*"`, held by the raw client process on the other core) while the hub applies
 * status changes at rising rates, against a bare uWS publish loop with the same frame size, the
 * same subscribers and the same generator in the same round. Rates are set as offered deliveries
 * per second (changes/s × subscribers), so steps compare across subscriber counts. Changes are
 * applied in 50 ms ticks, as a source that batches its events would deliver them.
 */
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { sleep } from './lib/clock.js'
import { coreShares, readCores } from './lib/cpu.js'
import { pairedRatios } from './lib/measure.js'
import { LOAD_CORE, PINNED, SERVER_CORE, openFileLimit, startWorker, type Worker } from './lib/proc.js'
import { fmtBytes, fmtCount, fmtNum, fmtRatio, fmtSpread, spread } from './lib/stats.js'
import type { Table } from './lib/table.js'

const TICK_MS = 50
const SUBSCRIBE = JSON.stringify({ type: 'subscribe', id: '1', instances: '*' })

export const FANOUT_TARGETS = { vsBare: 0.7, p99Ms: 25, rssPerSub: 4096 }

export interface FanoutStep {
  offered: number
  changesPerSec: number
  applied: number
  target: number
  delivered: number
  serverCpu: number
  serverCore: number
  loadCore: number
  usPerDelivery: number
  frameBytes: number
  latP50: number
  latP99: number
  latMax: number
  latCount: number
}

export interface FanoutRun {
  server: 'hub' | 'bare'
  n: number
  round: number
  connected: number
  connectMs: number
  rssBefore: number
  rssAfter: number
  rssPerSub: number
  peak: number
  steps: FanoutStep[]
  closes: Record<string, number>
}

export async function runFanout(ctx: BenchContext): Promise<ScenarioOutput> {
  const limit = openFileLimit()
  const wantNofile = 65536
  let ns = ctx.quick ? [200] : [1000, 5000, 10000]
  // 1,000 subscribers keep up with 4M/s here, so their ladder goes one step further.
  const ladder = ctx.quick ? [20_000, 100_000] : [100_000, 500_000, 1_000_000, 2_000_000, 4_000_000]
  const offeredFor = (n: number) => (ctx.quick || n > 1000 ? ladder : [...ladder, 8_000_000])
  const stepS = ctx.quick ? 1 : 2
  const gapMs = ctx.quick ? 200 : 500
  const notes: string[] = []

  const hub = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nodeArgs: ['--expose-gc'], nofile: wantNofile })
  const bare = await startWorker('bench/ref/bare-publish.ts', { core: SERVER_CORE, nodeArgs: ['--expose-gc'], nofile: wantNofile })
  const client = await startWorker('bench/ws-client.ts', { core: LOAD_CORE, nofile: wantNofile })
  const clientLimit = Number(client.ready.nofile)
  const fit = ns.filter((n) => n + 200 <= clientLimit)
  if (fit.length < ns.length) {
    notes.push(`Open-file limit ${clientLimit} (ours: ${limit}): subscriber counts above ${clientLimit - 200} were left out.`)
    ns = fit
  }
  const runs: FanoutRun[] = []
  try {
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`fanout round ${round + 1}`)
      for (const n of ns) {
        const order: ('hub' | 'bare')[] = round % 2 === 0 ? ['hub', 'bare'] : ['bare', 'hub']
        for (const server of order) {
          const run = await fanoutRun(server === 'hub' ? hub : bare, client, server, n, round, offeredFor(n), stepS, gapMs, String(hub.ready.token))
          runs.push(run)
          ctx.log(
            `  round ${round + 1} ${server.padEnd(4)} N=${String(n).padEnd(5)} connect ${fmtNum(run.connectMs / 1000, 1)} s  RSS/sub ${fmtBytes(run.rssPerSub)}  ` +
              run.steps.map((s) => `${fmtCount(s.offered)}→${fmtCount(s.delivered)} p99 ${fmtNum(s.latP99, 0)}ms`).join(' | '),
          )
        }
      }
    }
  } finally {
    await Promise.all([client.stop(), hub.stop(), bare.stop()])
  }
  return fanoutOutput(runs, ns, offeredFor, notes)
}

async function fanoutRun(
  server: Worker,
  client: Worker,
  name: 'hub' | 'bare',
  n: number,
  round: number,
  offered: number[],
  stepS: number,
  gapMs: number,
  token: string,
): Promise<FanoutRun> {
  const before = await server.request('gc')
  const c = await client.request('connect', { port: server.ready.port, path: '/ws', token, n, frame: SUBSCRIBE, sample: 20, concurrency: 256 })
  if (c.failed > 0) throw new Error(`${name}: ${c.failed} of ${n} subscribers failed: ${JSON.stringify(c.failures)}`)
  await sleep(1000)
  const after = await server.request('gc')
  if (after.subscribers !== n) throw new Error(`${name}: ${after.subscribers} subscribers on the topic, expected ${n}`)
  const steps: FanoutStep[] = []
  let closes: Record<string, number> = {}
  for (const target of offered) {
    const rate = target / n
    const m0 = await client.request('mark')
    const c0 = readCores()
    const r = await server.request('changes', { rate, seconds: stepS, tickMs: TICK_MS })
    const shares = coreShares(c0, readCores())
    const m1 = await client.request('mark')
    const delivered = (m1.frames - m0.frames) / ((m1.t - m0.t) / 1000)
    const frames = m1.frames - m0.frames
    steps.push({
      offered: target,
      changesPerSec: rate,
      applied: r.applied,
      target: r.target,
      delivered,
      serverCpu: r.cpuUs / (r.elapsedMs * 1000),
      serverCore: PINNED ? shares.busy[SERVER_CORE]! : NaN,
      loadCore: PINNED ? shares.busy[LOAD_CORE]! : NaN,
      usPerDelivery: r.cpuUs / Math.max(1, frames),
      frameBytes: (m1.bytes - m0.bytes) / Math.max(1, frames),
      latP50: m1.latP50,
      latP99: m1.latP99,
      latMax: m1.latMax,
      latCount: m1.latCount,
    })
    closes = m1.closes
    await sleep(gapMs)
  }
  await client.request('close')
  await sleep(gapMs)
  return {
    server: name,
    n,
    round,
    connected: c.connected,
    connectMs: c.ms,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssPerSub: (after.rss - before.rss) / n,
    peak: Math.max(...steps.map((s) => s.delivered)),
    steps,
    closes,
  }
}

function fanoutOutput(runs: FanoutRun[], ns: number[], offeredFor: (n: number) => number[], notes: string[]): ScenarioOutput {
  const of = (server: string, n: number) => runs.filter((r) => r.server === server && r.n === n).sort((a, b) => a.round - b.round)
  const stepOf = (r: FanoutRun, o: number) => r.steps.find((s) => s.offered === o)!
  const headline: Headline[] = []
  const numbers: Record<string, number> = {}
  const stepRows: string[][] = []
  const summaryRows: string[][] = []
  for (const n of ns) {
    const hub = of('hub', n)
    const bare = of('bare', n)
    for (const o of offeredFor(n)) {
      for (const [name, list] of [
        ['hub', hub],
        ['bare', bare],
      ] as const) {
        const s = (f: (x: FanoutStep) => number) => spread(list.map((r) => f(stepOf(r, o))))
        stepRows.push([
          String(n),
          name,
          fmtCount(o),
          `${fmtCount(s((x) => x.applied / Math.max(1, x.target)).median * 100)}%`,
          fmtSpread(s((x) => x.delivered)),
          fmtNum(s((x) => x.serverCpu).median * 100, 0) + '%',
          `${fmtNum(s((x) => x.serverCore).median * 100, 0)}% / ${fmtNum(s((x) => x.loadCore).median * 100, 0)}%`,
          fmtNum(s((x) => x.usPerDelivery).median, 2),
          `${fmtNum(s((x) => x.latP50).median, 1)} / ${fmtNum(s((x) => x.latP99).median, 1)}`,
          fmtNum(s((x) => x.frameBytes).median, 0),
        ])
        numbers[`${name}.n${n}.o${o}.delivered`] = s((x) => x.delivered).median
        numbers[`${name}.n${n}.o${o}.p99Ms`] = s((x) => x.latP99).median
      }
    }
    const ratio = spread(pairedRatios(hub.map((r) => r.peak), bare.map((r) => r.peak)))
    const rss = spread(hub.map((r) => r.rssPerSub))
    const bareRss = spread(bare.map((r) => r.rssPerSub))
    numbers[`ratio.n${n}.peak`] = ratio.median
    numbers[`hub.n${n}.rssPerSub`] = rss.median
    numbers[`bare.n${n}.rssPerSub`] = bareRss.median
    summaryRows.push([
      String(n),
      fmtSpread(spread(hub.map((r) => r.peak))),
      fmtSpread(spread(bare.map((r) => r.peak))),
      fmtSpread(ratio, fmtRatio),
      fmtSpread(rss, fmtBytes),
      fmtSpread(bareRss, fmtBytes),
      fmtNum(spread(hub.map((r) => r.connectMs)).median / 1000, 2),
    ])
    headline.push({
      figure: `Fan-out N=${n}: peak deliveries/s hub / bare uWS publish`,
      value: fmtSpread(ratio, fmtRatio),
      median: ratio.median,
      target: `≥ ${FANOUT_TARGETS.vsBare}×`,
      met: ratio.median >= FANOUT_TARGETS.vsBare,
    })
    if (n >= 5000) {
      headline.push({
        figure: `Fan-out N=${n}: server RSS per idle subscriber`,
        value: fmtSpread(rss, fmtBytes),
        median: rss.median,
        target: `< ${fmtBytes(FANOUT_TARGETS.rssPerSub)}`,
        met: rss.median < FANOUT_TARGETS.rssPerSub,
      })
    }
  }
  const p99At = (server: string, n: number, o: number) => spread(of(server, n).map((r) => stepOf(r, o).latP99))
  const targetN = ns.includes(5000) ? 5000 : ns[ns.length - 1]!
  const offered = offeredFor(targetN)
  const targetO = offered.includes(1_000_000) ? 1_000_000 : offered[offered.length - 1]!
  const hubP99 = p99At('hub', targetN, targetO)
  const bareP99 = p99At('bare', targetN, targetO)
  headline.push({
    figure: `Fan-out p99 latency at ${fmtCount(targetO)} deliveries/s, N=${targetN} (bare uWS: ${fmtNum(bareP99.median, 1)} ms)`,
    value: `${fmtSpread(hubP99, (x) => fmtNum(x, 1))} ms`,
    median: hubP99.median,
    target: `< ${FANOUT_TARGETS.p99Ms} ms`,
    met: hubP99.median < FANOUT_TARGETS.p99Ms,
  })
  numbers[`hub.p99AtTarget`] = hubP99.median
  numbers[`bare.p99AtTarget`] = bareP99.median
  const tables: Table[] = [
    {
      title: 'Fan-out: peak deliveries/s and memory per subscriber',
      headers: ['subscribers', 'hub peak deliveries/s', 'bare uWS peak', 'hub / bare', 'hub RSS / idle subscriber', 'bare RSS / subscriber', 'hub connect+snapshot s'],
      rows: summaryRows,
      notes: [
        'Peak = the highest delivered rate over the steps of a run; ratios pair the hub and the bare loop of the same round.',
        'RSS per subscriber = (server RSS after N subscribed and idle − before), both after a forced GC; the hub sent each subscriber its snapshot first.',
        ...notes,
      ],
    },
    {
      title: 'Fan-out: every step (median of the rounds)',
      headers: ['N', 'server', 'offered deliveries/s', 'applied', 'delivered/s', 'server CPU', 'server / load core', 'server µs/delivery', 'latency p50 / p99 ms', 'frame B'],
      rows: stepRows,
      notes: [
        `Changes are applied in ${TICK_MS} ms ticks; latency = frame received − change applied (a monotonic stamp in the frame), on 20 subscribers spread over the connection order.`,
        '"applied" below 100% means the server could not keep up and the generator shed changes; a load core near 100% means the client co-limits the step.',
      ],
    },
  ]
  return { name: 'fanout', title: '3. Fan-out', result: { runs }, tables, headline, numbers }
}
