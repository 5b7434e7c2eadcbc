/**
 * @module Scenario 4, resume storm: 5,000 subscribers drop at once while changes keep flowing,
 * and after a second reconnect together, each with `since` set to the last `seq` it received.
 * Measured: the time until every one is recovered (got `resumed`, or a snapshot, and then a
 * frame at or past the position a never-dropped control subscriber had reached when the storm
 * began), and how many resumes the hub served from its memory ring without reading SQLite
 * (counted by wrapping `store.readChanges` in the bench hub process). The same storm runs
 * against a hub whose ring is too small for the gap, so every resume reads the change log, and
 * against the bare uWS server (reconnect and subscribe, nothing replayed): the floor the machine
 * sets for 5,000 reconnections.
 */
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { sleep } from './lib/clock.js'
import { coreShares, readCores } from './lib/cpu.js'
import { LOAD_CORE, PINNED, SERVER_CORE, startWorker, type Worker } from './lib/proc.js'
import { fmtCount, fmtNum, fmtSpread, spread } from './lib/stats.js'

const SUBSCRIBE = JSON.stringify({ type: 'subscribe', id: '1', instances: '*' })
const RATE = 100

type Variant = 'ring' | 'log' | 'bare'
const VARIANTS: Variant[] = ['ring', 'log', 'bare']
const LABEL: Record<Variant, string> = {
  ring: 'hub, default ring (10,000 per account)',
  log: 'hub, ring of 20: every resume reads SQLite',
  bare: 'floor: bare uWS, reconnect + subscribe, no replay',
}

export interface StormRun {
  variant: Variant
  round: number
  n: number
  missed: number
  allMs: number
  p50Ms: number
  p99Ms: number
  recovered: number
  resumed: number
  snapshot: number
  failed: number
  replayFrom: number
  readChanges: number
  memoryShare: number
  /** Busy share of the server's and the client's core during the storm. */
  serverCore: number
  loadCore: number
}

export async function runResumeStorm(ctx: BenchContext): Promise<ScenarioOutput> {
  const n = ctx.quick ? 200 : 5000
  const phase = ctx.quick ? 400 : 1000
  const servers: Record<Variant, Worker> = {
    ring: await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nofile: 65536 }),
    // A ring shorter than the gap: every resume must read the SQLite change log.
    log: await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nofile: 65536, env: { HUB_STREAM_RING_SIZE: '20' } }),
    bare: await startWorker('bench/ref/bare-publish.ts', { core: SERVER_CORE, nofile: 65536 }),
  }
  const client = await startWorker('bench/ws-client.ts', { core: LOAD_CORE, nofile: 65536 })
  const runs: StormRun[] = []
  try {
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`resume round ${round + 1}`)
      for (const variant of VARIANTS) {
        const srv = servers[variant]
        const base = { port: srv.ready.port, path: '/ws', token: String(srv.ready.token ?? '') }
        const c = await client.request('connect', { ...base, n, frame: SUBSCRIBE, sample: 0, track: true, control: true, concurrency: 256 })
        if (c.failed > 0) throw new Error(`${variant}: ${c.failed} subscribers failed to connect`)
        await sleep(phase / 2)
        const before = await srv.request('stats')
        const changes = srv.request('changes', { rate: RATE, seconds: (phase * 4) / 1000, tickMs: 10 })
        await sleep(phase)
        const drop = await client.request('drop')
        await sleep(phase)
        const c0 = readCores()
        const r = await client.request('resume', { ...base, epoch: srv.ready.epoch, concurrency: 500, timeoutMs: 60_000 })
        const shares = coreShares(c0, readCores())
        await changes
        const after = await srv.request('stats')
        await client.request('close')
        await sleep(300)
        // The bare server keeps no history: nothing to count.
        const since = variant === 'bare' ? NaN : after.reads.replayFrom - before.reads.replayFrom
        const reads = variant === 'bare' ? NaN : after.reads.readChanges - before.reads.readChanges
        const run: StormRun = {
          variant,
          round,
          n,
          missed: r.target - drop.minSeq,
          allMs: r.allMs,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          recovered: r.recovered,
          resumed: r.resumed,
          snapshot: r.snapshot,
          failed: r.failed,
          replayFrom: since,
          readChanges: reads,
          memoryShare: since > 0 ? (since - reads) / since : NaN,
          serverCore: PINNED ? shares.busy[SERVER_CORE]! : NaN,
          loadCore: PINNED ? shares.busy[LOAD_CORE]! : NaN,
        }
        runs.push(run)
        ctx.log(
          `  round ${round + 1} ${variant.padEnd(4)} ${run.recovered}/${n} recovered in ${fmtNum(run.allMs, 0)} ms (p50 ${fmtNum(run.p50Ms, 0)}), ` +
            `${run.missed} changes missed, ${run.resumed} resumed / ${run.snapshot} snapshots${variant === 'bare' ? '' : `, ${reads} SQLite reads`}`,
        )
      }
    }
  } finally {
    await Promise.all([client.stop(), ...VARIANTS.map((v) => servers[v].stop())])
  }
  const of = (v: Variant) => runs.filter((r) => r.variant === v)
  const s = (v: Variant, f: (r: StormRun) => number) => spread(of(v).map(f))
  const med = (v: Variant, f: (r: StormRun) => number) => s(v, f).median
  const ms = (x: number) => fmtNum(x, 0)
  const headline: Headline[] = [
    {
      figure: `Resume storm: all ${fmtCount(n)} recovered, hub (ring) / floor (bare uWS, same client)`,
      value: `${ms(med('ring', (r) => r.allMs))} ms / ${ms(med('bare', (r) => r.allMs))} ms`,
      median: med('ring', (r) => r.allMs),
      target: '–',
      met: null,
    },
    {
      figure: 'Resume storm: median subscriber recovered, ring / every resume reads SQLite / floor',
      value: `${ms(med('ring', (r) => r.p50Ms))} / ${ms(med('log', (r) => r.p50Ms))} / ${ms(med('bare', (r) => r.p50Ms))} ms`,
      median: med('ring', (r) => r.p50Ms),
      target: '–',
      met: null,
    },
    {
      figure: 'Resume storm: share of resumes served from memory (default ring)',
      value: `${fmtNum(med('ring', (r) => r.memoryShare) * 100, 1)}%`,
      median: med('ring', (r) => r.memoryShare),
      target: '–',
      met: null,
    },
  ]
  const numbers: Record<string, number> = {}
  for (const v of VARIANTS) {
    numbers[`${v}.allMs`] = s(v, (r) => r.allMs).median
    numbers[`${v}.p50Ms`] = s(v, (r) => r.p50Ms).median
    numbers[`${v}.recovered`] = s(v, (r) => r.recovered).median
    if (v !== 'bare') numbers[`${v}.memoryShare`] = s(v, (r) => r.memoryShare).median
  }
  return {
    name: 'resume',
    title: '4. Resume storm',
    result: { runs, rate: RATE },
    tables: [
      {
        title: `Resume storm: ${fmtCount(n)} subscribers drop at once and resume with \`since\` (changes keep flowing at ${RATE}/s)`,
        headers: ['server', 'changes missed', 'all recovered ms', 'p50 / p99 ms', 'recovered', 'resumed / snapshot', 'resumes from memory', 'SQLite reads', 'server / load core'],
        rows: VARIANTS.map((v) => [
          LABEL[v],
          fmtNum(s(v, (r) => r.missed).median, 0),
          fmtSpread(s(v, (r) => r.allMs), (x) => fmtNum(x, 0)),
          `${fmtNum(s(v, (r) => r.p50Ms).median, 0)} / ${fmtNum(s(v, (r) => r.p99Ms).median, 0)}`,
          `${fmtNum(s(v, (r) => r.recovered).median, 0)} / ${n}`,
          v === 'bare' ? 'ack only' : `${fmtNum(s(v, (r) => r.resumed).median, 0)} / ${fmtNum(s(v, (r) => r.snapshot).median, 0)}`,
          v === 'bare' ? '–' : `${fmtNum(s(v, (r) => r.memoryShare).median * 100, 1)}%`,
          v === 'bare' ? '–' : fmtNum(s(v, (r) => r.readChanges).median, 0),
          `${fmtNum(s(v, (r) => r.serverCore).median * 100, 0)}% / ${fmtNum(s(v, (r) => r.loadCore).median * 100, 0)}%`,
        ]),
        notes: [
          'Recovered = the subscriber got `resumed` (or a fresh snapshot) and then a frame at or past the position a never-dropped control subscriber had when the storm began.',
          'All reconnect at once with at most 500 handshakes in flight; time runs from the first reconnect to the last recovery.',
          'A load core near 100% means the storm is bound by the client reconnecting 5,000 sockets: compare with the floor row, measured with the same client.',
        ],
      },
    ],
    headline,
    numbers,
  }
}
