/**
 * @module Scenario 6, memory: the hub's RSS after a restart with 10,000 and 100,000 instances in
 * the snapshot, per instance against an empty hub measured in the same round, right after the
 * load and again once every account's list has been rendered (every account polled once).
 * All after a forced GC.
 */
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { SERVER_CORE, startWorker } from './lib/proc.js'
import { seededDir } from './lib/seeded.js'
import { restartSizes } from './persistence.js'
import { fmtBytes, fmtCount, fmtNum, fmtSpread, spread } from './lib/stats.js'

export interface MemoryRun {
  round: number
  instances: number
  rssLoaded: number
  heapLoaded: number
  rssWarm: number
  heapWarm: number
  renderAllMs: number
}

export async function runMemory(ctx: BenchContext): Promise<ScenarioOutput> {
  const sizes = [0, ...restartSizes(ctx)]
  const dirs = new Map<number, string | undefined>([[0, undefined]])
  for (const n of sizes.slice(1)) dirs.set(n, (await seededDir(ctx, n)).dir)
  const runs: MemoryRun[] = []
  for (let round = 0; round < ctx.rounds; round++) {
    await ctx.quiet(`memory round ${round + 1}`)
    for (const n of sizes) {
      const dir = dirs.get(n)
      const env: Record<string, string> = dir === undefined ? { BENCH_ACCOUNTS: '0' } : { BENCH_DATA_DIR: dir }
      const w = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nodeArgs: ['--expose-gc'], env, readyTimeoutMs: 10 * 60_000 })
      try {
        const loaded = await w.request('gc')
        const render = await w.request('render-all')
        const warm = await w.request('gc')
        const run: MemoryRun = {
          round,
          instances: n,
          rssLoaded: loaded.rss,
          heapLoaded: loaded.heapUsed,
          rssWarm: warm.rss,
          heapWarm: warm.heapUsed,
          renderAllMs: render.ms,
        }
        runs.push(run)
        ctx.log(`  round ${round + 1} ${fmtCount(n).padStart(7)} instances: RSS ${fmtBytes(run.rssLoaded)} loaded, ${fmtBytes(run.rssWarm)} after every list was rendered`)
      } finally {
        await w.stop()
      }
    }
  }
  const base = (round: number) => runs.find((r) => r.round === round && r.instances === 0)!
  const per = (n: number, f: (r: MemoryRun) => number) =>
    spread(runs.filter((r) => r.instances === n).map((r) => (f(r) - f(base(r.round))) / n))
  const abs = (n: number, f: (r: MemoryRun) => number) => spread(runs.filter((r) => r.instances === n).map(f))
  const numbers: Record<string, number> = {}
  const headline: Headline[] = []
  const rows = sizes.map((n) => {
    if (n > 0) {
      numbers[`n${n}.rssPerInstance`] = per(n, (r) => r.rssLoaded).median
      numbers[`n${n}.rssPerInstanceWarm`] = per(n, (r) => r.rssWarm).median
      headline.push({
        figure: `Memory with ${fmtCount(n)} instances: RSS per instance (loaded / every list rendered)`,
        value: `${fmtBytes(per(n, (r) => r.rssLoaded).median)} / ${fmtBytes(per(n, (r) => r.rssWarm).median)}`,
        median: per(n, (r) => r.rssLoaded).median,
        target: '–',
        met: null,
      })
    }
    numbers[`n${n}.rss`] = abs(n, (r) => r.rssLoaded).median
    return [
      n === 0 ? 'empty hub' : fmtCount(n),
      fmtSpread(abs(n, (r) => r.rssLoaded), fmtBytes),
      n === 0 ? '–' : fmtBytes(per(n, (r) => r.rssLoaded).median),
      n === 0 ? '–' : fmtBytes(per(n, (r) => r.heapLoaded).median),
      fmtSpread(abs(n, (r) => r.rssWarm), fmtBytes),
      n === 0 ? '–' : fmtBytes(per(n, (r) => r.rssWarm).median),
      fmtNum(abs(n, (r) => r.renderAllMs).median, 0),
    ]
  })
  return {
    name: 'memory',
    title: '6. Memory',
    result: { runs },
    tables: [
      {
        title: 'Memory: hub RSS with the snapshot loaded (after a forced GC)',
        headers: ['instances', 'RSS loaded', 'RSS / instance', 'JS heap / instance', 'RSS after every list rendered', 'RSS / instance', 'render every list ms'],
        rows,
        notes: [
          'Per instance = (RSS − the empty hub of the same round) / instances. "Every list rendered" = each account (100 instances) asked for its list once: the per-instance JSON fragments and the byte-bounded list cache (HUB_LIST_CACHE_BYTES, 64 MB) are then filled.',
        ],
      },
    ],
    headline,
    numbers,
  }
}
