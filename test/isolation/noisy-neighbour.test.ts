/**
 * The noisy neighbour (issue 14, "What must exist"): one account runs every attack of the issue
 * at once, at its limits, against a real hub process, while a second account's subscriber and
 * poller keep working. Asserted structurally only: every attack met its limit (the exact close
 * code or status), and the second account lost nothing (no close, no gap, its mirror equal to
 * its list, every poll answered) while the hub stayed under a stated memory bound. What the
 * attack costs the second account in latency is measured by `npm run bench -- --only noisy`.
 */
import { readFileSync } from 'node:fs'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIMIT_ANSWERS, NOISY_HUB_ENV, prepareAttacker, runAttacks, unexpectedAnswers, type Attacker, type AttackReport } from '../../bench/lib/attacks.js'
import { StatusClient, type ClientEvent } from '../../src/client/index.js'
import { tempDir } from '../helpers/hub.js'
import { call, PROC_ADMIN, spawnHub, type HubProcess } from '../helpers/hub-process.js'
import { until } from '../helpers/wait.js'

const MB = 1024 * 1024
/** The attacker's instances: about 8 KB each in a list, so its `*` snapshot is past what loopback buffers absorb. */
const ATTACKER_INSTANCES = 1000
const ATTACK_MS = 6000
const VICTIM_CHANGES = 30
/**
 * The hub's resident set may not pass this during the attack. Before it the hub holds 260–320 MB
 * here (Node and tsx, the snapshot and item caches of 1,003 instances); what the attack may add is
 * bounded: the list cache (16 MB), one unsent answer per socket (two never-read snapshots and a
 * slowly read one of ~8 MB, the replays' pages) and the garbage of requests not yet collected.
 * Peaks seen: 329–385 MB. Before issue 14's fixes, four never-reading sockets alone took a hub
 * from 299 to 930 MB.
 */
const RSS_BOUND = 512 * MB

let hub: HubProcess
let port: number
let attacker: Attacker
let victim: { token: string; instanceToken: string; names: string[] }
let run: Run

const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))![1]) * 1024

beforeAll(async () => {
  hub = spawnHub(tempDir(), { HUB_WHATSAPP: 'simulated', ...NOISY_HUB_ENV })
  port = (await hub.listening(60_000))!
  const account = await call(port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'victim', instanceLimit: 10 })
  const token = account.json.token as string
  const names = ['shop', 'support', 'sales']
  let instanceToken = ''
  for (const name of names) {
    const created = await call(port, 'POST', '/api/instance/new', token, { name })
    instanceToken ||= created.json.instance.token
    await call(port, 'GET', `/api/instance/connect/${name}`, token)
    await call(port, 'POST', `/api/sim/${name}/scan`, token)
  }
  await until(async () => (await call(port, 'GET', '/api/instance/list', token)).json.instances.every((i: any) => i.status === 'connected'), { what: 'the victim connected', ms: 30_000 })
  victim = { token, instanceToken, names }
  attacker = await prepareAttacker(port, PROC_ADMIN, { instances: ATTACKER_INSTANCES })
  run = await noisyRun()
  console.log(
    `noisy neighbour: ${JSON.stringify(run.report)}; victim: ${JSON.stringify(run.polls)} polls, ${JSON.stringify(run.health)} health checks, ` +
      `${run.victimChanges} changes (seq ${run.snapshotSeq} → ${run.finalSeq}); hub RSS ${(run.rssBefore / MB).toFixed(0)} MB before, ${(run.rssPeak / MB).toFixed(0)} MB at the peak`,
  )
}, 240_000)

afterAll(async () => {
  await hub?.stop()
})

interface Run {
  report: AttackReport
  events: ClientEvent[]
  snapshotSeq: number
  finalSeq: number
  mirror: Record<string, unknown>
  list: Record<string, unknown>
  polls: Record<string, number>
  health: Record<string, number>
  rssBefore: number
  rssPeak: number
  victimChanges: number
}

/** Counts each answer of a poll loop until `stop()`, `gapMs` apart. */
function poller(url: string, headers: Record<string, string>, gapMs: number) {
  const counts: Record<string, number> = {}
  let on = true
  const done = (async () => {
    while (on) {
      const key = await fetch(url, { headers }).then(
        async (r) => (await r.arrayBuffer(), String(r.status)),
        (err: Error) => `failed: ${err.message}`,
      )
      counts[key] = (counts[key] ?? 0) + 1
      await new Promise((r) => setTimeout(r, gapMs))
    }
  })()
  return { counts, stop: () => ((on = false), done) }
}

async function noisyRun(): Promise<Run> {
  const recorded: ClientEvent[] = []
  const client = new StatusClient({ url: `ws://127.0.0.1:${port}/ws`, token: victim.token, WebSocket: WebSocket as never, instances: '*', onEvent: (e) => recorded.push(e) })
  client.start()
  await until(() => client.state === 'open', { what: 'the victim subscriber open', ms: 20_000 })
  const snapshotSeq = client.position!.seq

  const rssBefore = rss()
  let rssPeak = rssBefore
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 50)
  const polls = poller(`http://127.0.0.1:${port}/api/instance/list`, { token: victim.token }, 10)
  const health = poller(`http://127.0.0.1:${port}/healthz`, {}, 20)
  // The victim's own status changes flow through the simulator for the whole attack (and, on a
  // machine so loaded that the attack left room for few, until there were VICTIM_CHANGES).
  let changing = true
  let victimChanges = 0
  const changer = (async () => {
    for (let k = 0; changing || victimChanges < VICTIM_CHANGES; k++) {
      const r = await call(port, 'POST', `/api/sim/${victim.names[k % victim.names.length]}/online`, victim.token, { online: Math.floor(k / victim.names.length) % 2 === 0 })
      if (r.status === 200) victimChanges++
      await new Promise((r) => setTimeout(r, 50))
    }
  })()

  let report: AttackReport
  try {
    report = await runAttacks(attacker, { ms: ATTACK_MS, guesses: [victim.token, victim.instanceToken, PROC_ADMIN] })
  } finally {
    changing = false
    await changer
    clearInterval(sampler)
  }
  rssPeak = Math.max(rssPeak, rss())

  // Quiet: the victim's list and its subscriber's mirror are taken at one position, twice the same.
  let last = -1
  let taken: { seq: number; list: Record<string, unknown>; mirror: Record<string, unknown> } | null = null
  await until(
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token: victim.token } })
      const body = (await r.json()) as { instances: { name: string }[] }
      const seq = Number(r.headers.get('x-hub-seq'))
      const settled = seq === last && client.position?.seq === seq
      last = seq
      if (settled) taken = { seq, list: Object.fromEntries(body.instances.map((i) => [i.name, i])), mirror: Object.fromEntries(client.mirror) }
      return settled
    },
    { what: 'the victim subscriber at the head', ms: 30_000, detail: () => ({ last, at: client.position?.seq, state: client.state }) },
  )
  await Promise.all([polls.stop(), health.stop()])
  const events = [...recorded]
  client.stop()
  const { seq: finalSeq, list, mirror } = taken!
  return { report: report!, events, snapshotSeq, finalSeq, mirror, list, polls: polls.counts, health: health.counts, rssBefore, rssPeak, victimChanges }
}

describe('a noisy neighbour', () => {
  it('runs every attack of issue 14 from one account at once, and each attempt gets exactly its limit\'s answer', () => {
    // The never-reading attack's precondition: the snapshot is more than loopback buffers and the socket bound absorb.
    expect(attacker.listBytes).toBeGreaterThan(6 * MB)
    const r = run.report
    expect(unexpectedAnswers(r)).toEqual([])
    const [resumed, deepRefused] = LIMIT_ANSWERS.deepResume
    expect(r.deepResume[deepRefused]).toBeGreaterThan(0)
    expect(r.deepResume[resumed]).toBeGreaterThan(0)
    expect(r.sseDeepResume[LIMIT_ANSWERS.sseDeepResume[1]]).toBeGreaterThan(0)
    // Both never-reading sockets closed with 4008, for either of its two reasons.
    expect(Object.values(r.neverReading).reduce((a, b) => a + b, 0)).toBe(2)
    expect(r.slowSnapshot).toEqual({ snapshot: 1 })
    expect(r.snapshotFlood[LIMIT_ANSWERS.snapshotFlood[1]]).toBeGreaterThan(0)
    expect(r.listFilters[LIMIT_ANSWERS.listFilters[1]]).toBeGreaterThan(0)
    expect(r.renderFlood[LIMIT_ANSWERS.renderFlood[1]]).toBeGreaterThan(0)
    expect(r.renderFlood['200']).toBeGreaterThan(0)
    expect(r.malformedLength[LIMIT_ANSWERS.malformedLength[0]]).toBeGreaterThan(0)
    // HUB_UNAUTH_RATE_LIMIT_PER_MIN=20 in fixed minutes: 20 refusals, or 40 when the attack spans the turn of a minute.
    const [refused, limited] = LIMIT_ANSWERS.tokenGuess
    expect([20, 40]).toContain(r.tokenGuess[refused])
    expect(r.tokenGuess[limited]).toBeGreaterThan(0)
    expect(r.changes['200']).toBeGreaterThan(0)
  })

  it('keeps the other account\'s subscriber open with every change in order, no gap, and its mirror equal to its list', () => {
    const states = run.events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)
    expect(states).toEqual(['connecting', 'open'])
    expect(run.events.filter((e) => e.type === 'error')).toEqual([])
    expect(run.victimChanges).toBeGreaterThanOrEqual(VICTIM_CHANGES)
    const seqs = run.events.flatMap((e) => (e.type === 'diff' || e.type === 'added' || e.type === 'removed' ? [e.seq] : []))
    expect(seqs.length).toBeGreaterThanOrEqual(VICTIM_CHANGES)
    expect(seqs).toEqual(Array.from({ length: run.finalSeq - run.snapshotSeq }, (_, i) => run.snapshotSeq + 1 + i))
    expect(Object.keys(run.list).sort()).toEqual([...victim.names].sort())
    expect(run.mirror).toEqual(run.list)
  })

  it('answers every poll of the other account\'s list and every health check with 200 throughout', () => {
    expect(Object.keys(run.polls)).toEqual(['200'])
    expect(run.polls['200']).toBeGreaterThan(0)
    expect(Object.keys(run.health)).toEqual(['200'])
    expect(run.health['200']).toBeGreaterThan(0)
  })

  it(`keeps the hub's resident set under ${RSS_BOUND / MB} MB during the attack`, () => {
    expect(run.rssPeak).toBeLessThan(RSS_BOUND)
  })
})
