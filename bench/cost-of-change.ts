/**
 * @module Scenario 2, cost of change: the same polling as scenario 1 (full list and one-name
 * filter, 64 connections) while the hub applies 1,000 status changes per second spread over the
 * 100 instances, about one per millisecond, so nearly every request finds its cached body stale
 * and rebuilds it. Reported as the ratio to the same poll with no changes, measured in the same
 * round.
 */
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { sleep } from './lib/clock.js'
import { measureHttp, pairedRatios, type HttpCell } from './lib/measure.js'
import { SERVER_CORE, startWorker } from './lib/proc.js'
import { fmtCount, fmtNum, fmtRatio, fmtSpread, spread } from './lib/stats.js'

export const CHANGE_RATE = 1000

export async function runCostOfChange(ctx: BenchContext): Promise<ScenarioOutput> {
  const hub = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nodeArgs: ['--expose-gc'] })
  const seconds = ctx.quick ? 1 : 4
  const headers = { token: String(hub.ready.token) }
  const paths = { full: '/api/instance/list', one: `/api/instance/list?instanceName=${hub.ready.firstNames[0]}` }
  const cells: Record<string, HttpCell[]> = {}
  const achieved: number[] = []
  try {
    const poll = (path: string) =>
      measureHttp(ctx.loadgen, { url: `http://127.0.0.1:${hub.ready.port}${path}`, connections: 64, seconds, headers }, hub.pid)
    if (!ctx.quick) await poll(paths.full)
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`change round ${round + 1}`)
      for (const view of ['full', 'one'] as const) {
        for (const mode of ['idle', 'changing'] as const) {
          let changes: Promise<{ applied: number; elapsedMs: number }> | null = null
          if (mode === 'changing') {
            changes = hub.request('changes', { rate: CHANGE_RATE, seconds: seconds + 0.6, tickMs: 1 })
            await sleep(300)
          }
          const cell = await poll(paths[view])
          ;(cells[`${view}-${mode}`] ??= []).push(cell)
          let rate = ''
          if (changes !== null) {
            const c = await changes
            achieved.push((c.applied / c.elapsedMs) * 1000)
            rate = `  (${fmtCount(achieved[achieved.length - 1]!)} changes/s applied)`
          }
          ctx.log(`  round ${round + 1} ${`${view}-${mode}`.padEnd(14)} ${fmtCount(cell.reqPerSec).padStart(8)} req/s  p99 ${fmtNum(cell.p99Ms)} ms${rate}`)
        }
      }
    }
  } finally {
    await hub.stop()
  }
  const rps = (id: string) => (cells[id] ?? []).map((c) => c.reqPerSec)
  const ratios = {
    full: pairedRatios(rps('full-changing'), rps('full-idle')),
    one: pairedRatios(rps('one-changing'), rps('one-idle')),
  }
  const headline: Headline[] = (['full', 'one'] as const).map((v) => {
    const s = spread(ratios[v])
    return {
      figure: `Cost of change: ${v === 'full' ? 'full list' : 'one-name filter'} c64 while 1,000 changes/s / unchanged`,
      value: fmtSpread(s, fmtRatio),
      median: s.median,
      target: '–',
      met: null,
    }
  })
  const numbers: Record<string, number> = { achievedChangesPerSec: spread(achieved).median, 'ratio.full': spread(ratios.full).median, 'ratio.one': spread(ratios.one).median }
  for (const [id, runs] of Object.entries(cells)) numbers[`${id}.reqPerSec`] = spread(runs.map((c) => c.reqPerSec)).median
  return {
    name: 'change',
    title: '2. Cost of change',
    result: { cells, ratios, achievedChangesPerSec: achieved },
    tables: [
      {
        title: `Cost of change: polling while the hub applies ${fmtCount(CHANGE_RATE)} status changes/s (c64)`,
        headers: ['view', 'unchanged req/s', 'while changing req/s', 'ratio', 'p99 ms unchanged / changing'],
        rows: (['full', 'one'] as const).map((v) => [
          v === 'full' ? 'full list (100)' : 'one-name filter',
          fmtSpread(spread(rps(`${v}-idle`))),
          fmtSpread(spread(rps(`${v}-changing`))),
          fmtSpread(spread(ratios[v]), fmtRatio),
          `${fmtNum(spread((cells[`${v}-idle`] ?? []).map((c) => c.p99Ms)).median)} / ${fmtNum(spread((cells[`${v}-changing`] ?? []).map((c) => c.p99Ms)).median)}`,
        ]),
        notes: [
          `Changes actually applied during the changing runs: ${fmtSpread(spread(achieved))} per second (target ${fmtCount(CHANGE_RATE)}, generated inside the hub process on a 1 ms timer).`,
        ],
      },
    ],
    headline,
    numbers,
  }
}
