/**
 * @module `npm run bench`: runs every scenario (or `--only a,b`), prints readable tables, writes
 * `bench/results/latest.json` and, after a full run, `bench/RESULTS.md`. `--quick` is the
 * one-minute pass the smoke test uses: every scenario once, small and short; its numbers prove
 * the bench still runs, not how fast anything is.
 *
 *   npm run bench                      full run (~13 min here)
 *   npm run bench -- --quick           one-minute pass (writes bench/results/quick.json)
 *   npm run bench -- --only rest,fanout --rounds 5
 *   npm run bench -- --out /tmp/x.json
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runCluster } from './cluster.js'
import { runCostOfChange } from './cost-of-change.js'
import { runFanout } from './fanout.js'
import { monoMs, sleep } from './lib/clock.js'
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { detectLoadgen } from './lib/loadgen.js'
import { machine, type Machine } from './lib/machine.js'
import { backgroundLoad } from './lib/measure.js'
import { ROOT } from './lib/proc.js'
import { renderTable, type Table } from './lib/table.js'
import { runMemory } from './memory.js'
import { runNoisy } from './noisy.js'
import { runPersistence } from './persistence.js'
import { runResumeStorm } from './resume-storm.js'
import { runRestPolling } from './rest-polling.js'

/** A core busier than this before a round, with the bench idle, means other work on the machine. */
const QUIET_BUSY = 0.2
/** The most a full run waits for quiet, in total. */
const QUIET_BUDGET_S = 300

export const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioOutput>> = {
  rest: runRestPolling,
  change: runCostOfChange,
  fanout: runFanout,
  resume: runResumeStorm,
  persistence: runPersistence,
  memory: runMemory,
  cluster: runCluster,
  noisy: runNoisy,
}

export interface BenchReport {
  machine: Machine
  quick: boolean
  rounds: number
  /** Busy share of each core before the run, with nothing of the bench running. */
  backgroundLoad: number[]
  /** The busiest core's share before each round: other processes on the machine. */
  noise: { label: string; busy: number }[]
  /** Seconds spent waiting for a quiet machine before rounds. */
  quietWaitS: number
  durationS: number
  headline: Headline[]
  failed: { scenario: string; error: string }[]
  scenarios: Record<string, { title: string; durationS: number; numbers: Record<string, number>; result: unknown; markdown: string }>
}

export function headlineTable(rows: Headline[]): Table {
  return {
    title: 'Headline figures',
    headers: ['figure', 'measured: median (min–max)', 'target', 'met'],
    align: ['l', 'r', 'r', 'l'],
    rows: rows.map((h) => [h.figure, h.value, h.target, h.met === null ? '–' : h.met ? 'yes' : 'NO']),
  }
}

export function machineLine(m: Machine, quick: boolean, rounds: number): string {
  return (
    `${m.date.slice(0, 16).replace('T', ' ')} UTC · ${m.nproc} × ${m.cpu} · ${m.memGB} GB · Linux ${m.kernel} · Node ${m.node} · ` +
    `load generator ${m.loadgen} · ${m.pinned ? 'server pinned to core 0, load to core 1 (taskset)' : 'not pinned'} · ` +
    `${quick ? 'quick pass' : `${rounds} interleaved rounds`} · commit ${m.commit}`
  )
}

export async function runBench(opts: {
  quick: boolean
  only?: string[]
  rounds?: number
  log?: (s: string) => void
  /** Called after each scenario with the report so far (the run writes it out as it goes). */
  onScenario?: (r: BenchReport) => void
}): Promise<BenchReport> {
  const log = opts.log ?? ((s: string) => console.log(s))
  const loadgen = detectLoadgen()
  const m = machine(loadgen)
  const rounds = opts.rounds ?? (opts.quick ? 1 : 3)
  const tmp = mkdtempSync(join(tmpdir(), 'statushub-bench-run-'))
  const noise: { label: string; busy: number }[] = []
  let budgetMs = opts.quick ? 0 : QUIET_BUDGET_S * 1000
  let waitedMs = 0
  const quiet = async (label: string): Promise<number> => {
    const t0 = monoMs()
    let busy = Math.max(...(await backgroundLoad(opts.quick ? 100 : 500)))
    if (busy > QUIET_BUSY && budgetMs > 0) log(`  the machine is busy (${Math.round(busy * 100)}% on a core) before ${label}: waiting up to ${Math.round(budgetMs / 1000)} s`)
    while (busy > QUIET_BUSY && monoMs() - t0 < budgetMs) {
      await sleep(2000)
      busy = Math.max(...(await backgroundLoad(500)))
    }
    const spent = monoMs() - t0
    budgetMs = Math.max(0, budgetMs - spent)
    waitedMs += spent
    noise.push({ label, busy })
    return busy
  }
  const ctx: BenchContext = { quick: opts.quick, rounds, loadgen, tmp, log, quiet }
  const started = monoMs()
  const report: BenchReport = {
    machine: m,
    quick: opts.quick,
    rounds,
    backgroundLoad: await backgroundLoad(opts.quick ? 200 : 1000),
    noise,
    quietWaitS: 0,
    durationS: 0,
    headline: [],
    failed: [],
    scenarios: {},
  }
  log(`statushub bench · ${machineLine(m, opts.quick, rounds)}`)
  log(`background load before the run: ${report.backgroundLoad.map((b) => `${Math.round(b * 100)}%`).join(' / ')} (per core)\n`)
  try {
    for (const [name, run] of Object.entries(SCENARIOS)) {
      if (opts.only && !opts.only.includes(name)) continue
      const t0 = monoMs()
      log(`== ${name} ==`)
      try {
        const out = await run(ctx)
        const durationS = (monoMs() - t0) / 1000
        const markdown = out.tables.map(renderTable).join('\n\n')
        log(`\n${markdown}\n\n(${out.title}: ${durationS.toFixed(0)} s)\n`)
        report.headline.push(...out.headline)
        report.scenarios[name] = { title: out.title, durationS, numbers: out.numbers, result: out.result, markdown }
      } catch (err) {
        // One broken scenario must not cost the others' results; the run still fails at the end.
        log(`scenario ${name} failed: ${(err as Error).stack ?? String(err)}\n`)
        report.failed.push({ scenario: name, error: String(err) })
      }
      opts.onScenario?.(report)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  report.durationS = (monoMs() - started) / 1000
  report.quietWaitS = waitedMs / 1000
  log(renderTable(headlineTable(report.headline)))
  log(`\nmachine noise: ${noiseLine(report)}`)
  log(`total ${report.durationS.toFixed(0)} s`)
  return report
}

export function noiseLine(r: BenchReport): string {
  const busy = r.noise.map((n) => n.busy).sort((a, b) => a - b)
  if (busy.length === 0) return 'no rounds'
  const loud = r.noise.filter((n) => n.busy > QUIET_BUSY).map((n) => n.label)
  return (
    `busiest core before each round (other processes): median ${Math.round(busy[busy.length >> 1]! * 100)}%, max ${Math.round(busy[busy.length - 1]! * 100)}%` +
    (loud.length > 0 ? `; ${loud.length} of ${busy.length} rounds started on a busy machine (${Math.round(r.quietWaitS)} s spent waiting for quiet)` : '')
  )
}

export function resultsMarkdown(r: BenchReport): string {
  const parts = [
    '# statushub benchmark results',
    '',
    `Generated by \`npm run bench\`; do not edit by hand. ${machineLine(r.machine, r.quick, r.rounds)}.`,
    `Background load before the run: ${r.backgroundLoad.map((b) => `${Math.round(b * 100)}%`).join(' / ')} per core; ${noiseLine(r)}. Total ${Math.round(r.durationS)} s.`,
    '',
    renderTable(headlineTable(r.headline)).replace(/^### /, '## '),
  ]
  for (const s of Object.values(r.scenarios)) parts.push('', `## ${s.title}`, '', s.markdown.replace(/^### /gm, '#### '))
  return parts.join('\n') + '\n'
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
    },
  })
  const only = values.only?.split(',').map((s) => s.trim())
  const unknown = only?.filter((s) => !(s in SCENARIOS)) ?? []
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  const out = values.out ?? join(ROOT, 'bench/results', values.quick ? 'quick.json' : 'latest.json')
  mkdirSync(dirname(out), { recursive: true })
  const save = (r: BenchReport) => writeFileSync(out, JSON.stringify(r, null, 2))
  const report = await runBench({ quick: values.quick!, only, rounds: values.rounds === undefined ? undefined : Number(values.rounds), onScenario: save })
  save(report)
  console.log(`results: ${out}`)
  if (!values.quick && only === undefined && values.out === undefined && report.failed.length === 0) {
    writeFileSync(join(ROOT, 'bench/RESULTS.md'), resultsMarkdown(report))
    console.log('summary: bench/RESULTS.md')
  }
  if (report.failed.length > 0) {
    console.error(`failed scenarios: ${report.failed.map((f) => f.scenario).join(', ')}`)
    process.exitCode = 1
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
