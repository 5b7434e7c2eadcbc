/**
 * @module Scenario 8, the noisy neighbour: what one tenant running every attack of issue 14 at its
 * limits (bench/lib/attacks.ts, from its own process on the load core) costs another tenant of
 * the same hub. The victim is the bench account (5 instances) with one WebSocket subscriber and
 * one poller of its list, both in the bench's own process, while the hub applies stamped status
 * changes to it. Measured in interleaved rounds, alone and under attack: the victim's list
 * latency (request to full answer) and its stream delay (the change applied in the hub to its
 * frame read by the subscriber, one clock for both), reported as ratios attack / alone, and the
 * hub's peak resident set under attack.
 */
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { STAMP_MARKER } from './fixture.js'
import { LIMIT_ANSWERS, NOISY_HUB_ENV, type AttackName, type AttackReport } from './lib/attacks.js'
import { monoMs, sleep } from './lib/clock.js'
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { LOAD_CORE, SERVER_CORE, startWorker, type Worker } from './lib/proc.js'
import { fmtBytes, fmtCount, fmtNum, fmtRatio, percentile, spread } from './lib/stats.js'

export const NOISY_TARGETS = { p99Ratio: 3, rssBytes: 512 * 1024 * 1024 }

/** The victim's stamped changes per second, and its poller's pause between requests. */
const CHANGE_RATE = 50
const POLL_GAP_MS = 10
/** The attack is under way this long before the victim is measured, and outlasts it as long. */
const LEAD_MS = 1000

type Phase = 'alone' | 'attack'

export interface NoisyRun {
  round: number
  phase: Phase
  polls: number
  /** Polls answered with anything but 200. */
  pollErrors: number
  listP50: number
  listP99: number
  frames: number
  delayP50: number
  delayP99: number
  /** Seqs the subscriber missed and times it was closed, over the phase. */
  gaps: number
  closes: number
  rssPeak: number
  report: AttackReport | null
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024
  } catch {
    return NaN
  }
}

/** The victim's subscriber: the delay of every stamped frame, the seqs it skipped, its closes. */
async function subscriber(port: number, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token } })
  const s = { delays: [] as number[], gaps: 0, closes: 0, last: -1 }
  ws.on('message', (data: Buffer) => {
    const now = monoMs()
    const text = data.toString()
    const seq = Number(/"seq":(\d+)/.exec(text)?.[1] ?? NaN)
    if (text.startsWith('{"type":"snapshot"')) s.last = seq
    else if (Number.isFinite(seq)) {
      if (s.last >= 0 && seq !== s.last + 1) s.gaps += Math.max(1, seq - s.last - 1)
      s.last = seq
      const at = text.indexOf(STAMP_MARKER)
      if (at >= 0) s.delays.push(now - parseFloat(text.slice(at + STAMP_MARKER.length, at + STAMP_MARKER.length + 24)))
    }
  })
  ws.on('close', () => s.closes++)
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_q, r) => reject(new Error(`victim subscriber refused: ${r.statusCode}`)))
  })
  ws.send(JSON.stringify({ type: 'subscribe', id: 'victim', instances: '*' }))
  while (s.last < 0 && s.closes === 0) await sleep(10)
  return {
    /** What the phase measured, reset for the next one. */
    take() {
      const out = { delays: s.delays, gaps: s.gaps, closes: s.closes }
      Object.assign(s, { delays: [], gaps: 0, closes: 0 })
      return out
    },
    close: () => ws.close(),
  }
}

async function poll(port: number, token: string, ms: number): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = []
  let errors = 0
  const end = monoMs() + ms
  while (monoMs() < end) {
    const t0 = monoMs()
    const ok = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token } }).then(
      async (r) => (await r.arrayBuffer(), r.status === 200),
      () => false,
    )
    latencies.push(monoMs() - t0)
    if (!ok) errors++
    await sleep(POLL_GAP_MS)
  }
  return { latencies, errors }
}

export async function runNoisy(ctx: BenchContext): Promise<ScenarioOutput> {
  const seconds = ctx.quick ? 3 : 8
  const instances = ctx.quick ? 400 : 1000
  const hub = await startWorker('bench/hub-process.ts', {
    core: SERVER_CORE,
    nofile: 65536,
    env: { ...NOISY_HUB_ENV, BENCH_OWN_LIMITS: '1', BENCH_ACCOUNTS: '1', BENCH_PER_ACCOUNT: '5' },
  })
  const attacker = await startWorker('bench/noisy-attacker.ts', { core: LOAD_CORE, nofile: 65536 })
  const runs: NoisyRun[] = []
  let victim: Awaited<ReturnType<typeof subscriber>> | null = null
  try {
    const port = Number(hub.ready.port)
    const token = String(hub.ready.token)
    const prepared = await attacker.request('prepare', { port, adminToken: hub.ready.adminToken, instances }, 600_000)
    ctx.log(`  attacker: ${prepared.instances} instances, a list of ${fmtBytes(prepared.listBytes)}`)
    victim = await subscriber(port, token)
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`noisy round ${round + 1}`)
      const order: Phase[] = round % 2 === 0 ? ['alone', 'attack'] : ['attack', 'alone']
      for (const phase of order) {
        const run = await measure(hub, attacker, victim, { round, phase, port, token, seconds })
        runs.push(run)
        ctx.log(
          `  round ${round + 1} ${phase.padEnd(6)} list p50/p99 ${fmtNum(run.listP50, 1)}/${fmtNum(run.listP99, 1)} ms over ${run.polls} polls (${run.pollErrors} not 200), ` +
            `stream delay p50/p99 ${fmtNum(run.delayP50, 1)}/${fmtNum(run.delayP99, 1)} ms over ${run.frames} frames, ${run.gaps} missed, ${run.closes} closes, hub RSS peak ${fmtBytes(run.rssPeak)}`,
        )
        await sleep(1000)
      }
    }
  } finally {
    victim?.close()
    await Promise.all([attacker.stop(), hub.stop()])
  }
  return noisyOutput(runs, { seconds, instances })
}

async function measure(
  hub: Worker,
  attacker: Worker,
  victim: Awaited<ReturnType<typeof subscriber>>,
  o: { round: number; phase: Phase; port: number; token: string; seconds: number },
): Promise<NoisyRun> {
  let rssPeak = rssOf(hub.pid)
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(hub.pid))), 100)
  try {
    const attack =
      o.phase === 'attack' ? attacker.request('attack', { ms: o.seconds * 1000 + 2 * LEAD_MS, guesses: [o.token, String(hub.ready.adminToken)] }) : null
    if (attack !== null) await sleep(LEAD_MS)
    victim.take()
    const [polled] = await Promise.all([poll(o.port, o.token, o.seconds * 1000), hub.request('changes', { rate: CHANGE_RATE, seconds: o.seconds, tickMs: 10 })])
    // The last frames of the phase are still on their way.
    await sleep(200)
    const seen = victim.take()
    const report = attack === null ? null : ((await attack).report as AttackReport)
    return {
      round: o.round,
      phase: o.phase,
      polls: polled.latencies.length,
      pollErrors: polled.errors,
      listP50: percentile(polled.latencies, 50),
      listP99: percentile(polled.latencies, 99),
      frames: seen.delays.length,
      delayP50: percentile(seen.delays, 50),
      delayP99: percentile(seen.delays, 99),
      gaps: seen.gaps,
      closes: seen.closes,
      rssPeak: Math.max(rssPeak, rssOf(hub.pid)),
      report,
    }
  } finally {
    clearInterval(sampler)
  }
}

function noisyOutput(runs: NoisyRun[], o: { seconds: number; instances: number }): ScenarioOutput {
  const rounds = [...new Set(runs.map((r) => r.round))]
  const pair = (round: number) => ({ alone: runs.find((r) => r.round === round && r.phase === 'alone')!, attack: runs.find((r) => r.round === round && r.phase === 'attack')! })
  const ratio = (f: (r: NoisyRun) => number) => spread(rounds.map((k) => f(pair(k).attack) / f(pair(k).alone)))
  const med = (phase: Phase, f: (r: NoisyRun) => number) => spread(runs.filter((r) => r.phase === phase).map(f)).median
  const listRatio = ratio((r) => r.listP99)
  const delayRatio = ratio((r) => r.delayP99)
  const rssPeak = spread(runs.filter((r) => r.phase === 'attack').map((r) => r.rssPeak))
  const answers: Record<string, Record<string, number>> = {}
  for (const r of runs) {
    for (const [attack, counts] of Object.entries(r.report ?? {})) {
      const into = (answers[attack] ??= {})
      for (const [answer, n] of Object.entries(counts)) into[answer] = (into[answer] ?? 0) + n
    }
  }
  const range = (s: { min: number; max: number; n: number }, f: (x: number) => string) => (s.n > 1 ? ` (${f(s.min)}–${f(s.max)})` : '')
  const headline: Headline[] = [
    {
      figure: `Noisy neighbour: victim list p99, under attack / alone (${fmtNum(med('attack', (r) => r.listP99), 1)} / ${fmtNum(med('alone', (r) => r.listP99), 1)} ms)`,
      value: `${fmtRatio(listRatio.median)}${range(listRatio, fmtRatio)}`,
      median: listRatio.median,
      target: `≤ ${NOISY_TARGETS.p99Ratio}×`,
      met: listRatio.median <= NOISY_TARGETS.p99Ratio,
    },
    {
      figure: `Noisy neighbour: victim stream delay p99, under attack / alone (${fmtNum(med('attack', (r) => r.delayP99), 1)} / ${fmtNum(med('alone', (r) => r.delayP99), 1)} ms)`,
      value: `${fmtRatio(delayRatio.median)}${range(delayRatio, fmtRatio)}`,
      median: delayRatio.median,
      target: `≤ ${NOISY_TARGETS.p99Ratio}×`,
      met: delayRatio.median <= NOISY_TARGETS.p99Ratio,
    },
    {
      figure: 'Noisy neighbour: hub peak RSS under attack',
      value: `${fmtBytes(rssPeak.median)}${range(rssPeak, fmtBytes)}`,
      median: rssPeak.median,
      target: `< ${fmtBytes(NOISY_TARGETS.rssBytes)}`,
      met: rssPeak.max < NOISY_TARGETS.rssBytes,
    },
  ]
  const numbers: Record<string, number> = {
    listP99Ratio: listRatio.median,
    listP50Ratio: ratio((r) => r.listP50).median,
    delayP99Ratio: delayRatio.median,
    delayP50Ratio: ratio((r) => r.delayP50).median,
    rssPeak: rssPeak.median,
  }
  for (const phase of ['alone', 'attack'] as Phase[]) {
    for (const k of ['listP50', 'listP99', 'delayP50', 'delayP99', 'polls', 'frames', 'pollErrors', 'gaps', 'closes'] as const) numbers[`${phase}.${k}`] = med(phase, (r) => r[k])
  }
  const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–')
  const row = (phase: Phase) => [
    phase === 'alone' ? 'victim alone' : 'victim under attack',
    int(med(phase, (r) => r.polls)),
    int(med(phase, (r) => r.pollErrors)),
    `${fmtNum(med(phase, (r) => r.listP50), 1)} / ${fmtNum(med(phase, (r) => r.listP99), 1)}`,
    int(med(phase, (r) => r.frames)),
    `${fmtNum(med(phase, (r) => r.delayP50), 1)} / ${fmtNum(med(phase, (r) => r.delayP99), 1)}`,
    `${int(med(phase, (r) => r.gaps))} / ${int(med(phase, (r) => r.closes))}`,
    fmtBytes(med(phase, (r) => r.rssPeak)),
  ]
  const ratios = [
    'under attack / alone',
    '',
    '',
    `${fmtRatio(numbers.listP50Ratio!)} / ${fmtRatio(listRatio.median)}`,
    '',
    `${fmtRatio(numbers.delayP50Ratio!)} / ${fmtRatio(delayRatio.median)}`,
    '',
    '',
  ]
  return {
    name: 'noisy',
    title: '8. Noisy neighbour',
    result: { runs, seconds: o.seconds, attackerInstances: o.instances },
    tables: [
      {
        title: `Noisy neighbour: a victim account (5 instances, ${CHANGE_RATE} changes/s) beside an attacker (${fmtCount(o.instances)} instances of ~8 KB) running every attack of issue 14`,
        headers: ['phase', 'polls', 'not 200', 'list p50 / p99 ms', 'frames', 'stream delay p50 / p99 ms', 'missed seqs / closes', 'hub RSS peak'],
        rows: [row('alone'), row('attack'), ratios],
        notes: [
          `Each phase ${o.seconds} s, median over rounds (alone and under attack alternate; the ratios are per round, then the median). List latency: the victim polls its list every ${POLL_GAP_MS} ms, request to full answer. Stream delay: the status change applied in the hub to its frame read by the victim's subscriber.`,
          'The victim measures from the bench process; the attacker runs in its own process on the load core; the hub (bench/hub-process.ts) runs with the noisy-neighbour settings of bench/lib/attacks.ts (NOISY_HUB_ENV) and its per-account budgets on.',
        ],
      },
      {
        title: 'Noisy neighbour: what the attacker got (summed over the attack phases)',
        headers: ['attack', 'answers'],
        align: ['l', 'l'],
        rows: (Object.keys(LIMIT_ANSWERS) as AttackName[]).map((k) => [
          k,
          Object.entries(answers[k] ?? {})
            .map(([answer, n]) => `${int(n)} × ${answer}`)
            .join('; ') || '–',
        ]),
      },
    ],
    headline,
    numbers,
  }
}
