/**
 * The crash harness: a real hub process (`npm start`, simulated WhatsApp) on one data directory,
 * killed with SIGKILL at a random moment while creates, deletes, settings writes and status
 * changes flow, then started again on the same data, round after round. After each restart it
 * records what the hub serves against what was acknowledged and shown before the kill; the tests
 * assert on those reports. Everything runs on 127.0.0.1.
 *
 * What counts as acknowledged: an answer received (201 / 200). A request in flight at the kill
 * may or may not have happened, so both outcomes are accepted for it, and it is resolved from
 * what the restarted hub serves.
 */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import WebSocket from 'ws'
import { call, PROC_ADMIN, spawnHub, type HubProcess } from '../helpers/hub-process.js'
import { until, untilValue } from '../helpers/wait.js'

export interface RoundReport {
  round: number
  killAfterMs: number
  /** Acknowledged during the round (status changes included), before the kill. */
  acked: { creates: number; deletes: number; settings: number; statusChanges: number }
  integrity: string
  /** Acknowledged creates the restarted hub does not serve (or whose token it refuses). */
  lost: string[]
  /** Acknowledged deletes the restarted hub serves again. */
  resurrected: string[]
  /** Settings whose value is neither the last acknowledged one nor one in flight at the kill. */
  wrongSettings: { name: string; got: string; allowed: string[] }[]
  epochBefore: string
  epochAfter: string
  /** What a client resuming from its last position got first after the restart. */
  resume: { type: string; recovered: boolean | undefined; epoch: string }
  /**
   * The highest seq shown before the kill (stream frames and list headers), and the first seq of
   * the new epoch (from the change log; the head + 1 when it has no change yet).
   */
  seqShown: number
  firstSeqAfter: number
  /**
   * Instances whose first version in the new epoch (the version of their first change in it, or
   * their current version + 1 when it has none) is not above every version shown before the kill.
   */
  versionsBack: { name: string; shown: number; next: number }[]
}

export interface CrashOptions {
  dir: string
  rounds: number
  /** The kill lands uniformly in [min, max] ms after the workload starts. */
  killAfterMs: [number, number]
  /** Instances that keep a simulated session and change status throughout. */
  flappers?: number
  seed?: number
  log?: (line: string) => void
}

/** Deterministic per run, so a failing round can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ENV = { HUB_WHATSAPP: 'simulated', HUB_LOG_LEVEL: 'info' }

interface Shown {
  seq: number
  versions: Map<string, number>
}

function see(shown: Shown, name: string, version: number): void {
  if (version > (shown.versions.get(name) ?? 0)) shown.versions.set(name, version)
}

/** A subscriber that records the highest seq and versions it was shown. */
function watch(port: number, token: string, shown: Shown): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token } })
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 'w', instances: '*' })))
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString())
    if (typeof f.seq === 'number') shown.seq = Math.max(shown.seq, f.seq)
    if (f.type === 'diff') see(shown, f.instance, f.version)
    if (f.type === 'added') see(shown, f.instance.name, f.instance.version)
    if (f.type === 'snapshot') for (const i of f.instances) see(shown, i.name, i.version)
  })
  ws.on('error', () => {})
  return ws
}

/** The first frame a client resuming from `since` gets. */
function resumeFrame(port: number, token: string, since: { epoch: string; seq: number }): Promise<any> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token } })
    const t = setTimeout(() => reject(new Error('no answer to the resume')), 10_000)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 'r', instances: '*', since })))
    ws.on('message', (data) => {
      clearTimeout(t)
      resolve(JSON.parse(data.toString()))
      ws.close()
    })
    ws.on('error', reject)
  })
}

async function list(port: number, token: string): Promise<{ epoch: string; seq: number; items: any[] }> {
  const r = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token } })
  const body = (await r.json()) as { instances: any[] }
  if (r.status !== 200) throw new Error(`list: ${r.status} ${JSON.stringify(body)}`)
  return { epoch: r.headers.get('x-hub-epoch')!, seq: Number(r.headers.get('x-hub-seq')), items: body.instances }
}

function readOnly<T>(dir: string, f: (db: Database.Database) => T): T {
  const db = new Database(join(dir, 'statushub.db'), { readonly: true })
  try {
    return f(db)
  } finally {
    db.close()
  }
}

/** The first seq of `epoch` in the account's change log, and each instance's first version in it. */
function firstOfEpoch(dir: string, accountId: number, epoch: string): { seq: number | null; versions: Map<string, number> } {
  const rows = readOnly(dir, (db) => db.prepare('SELECT seq, frame FROM change_log WHERE account_id = ? ORDER BY seq').all(accountId) as { seq: number; frame: string }[])
  let seq: number | null = null
  const versions = new Map<string, number>()
  for (const r of rows) {
    const f = JSON.parse(r.frame)
    if (f.epoch !== epoch) continue
    seq ??= r.seq
    const name = f.type === 'added' ? f.instance.name : f.instance
    const version = f.type === 'diff' ? f.version : f.type === 'added' ? f.instance.version : undefined
    if (version !== undefined && !versions.has(name)) versions.set(name, version)
  }
  return { seq, versions }
}

/** Whether the account's change log holds `seq`, or `seq` is where the current epoch started. */
function written(dir: string, accountId: number, seq: number): boolean {
  return readOnly(dir, (db) => {
    const start = (db.prepare('SELECT epoch_seq AS start FROM accounts WHERE id = ?').get(accountId) as { start: number }).start
    return start === seq || db.prepare('SELECT 1 FROM change_log WHERE account_id = ? AND seq = ?').get(accountId, seq) !== undefined
  })
}

export async function crashRounds(o: CrashOptions): Promise<RoundReport[]> {
  const random = rng(o.seed ?? 1)
  const log = o.log ?? (() => {})
  const flappers = Array.from({ length: o.flappers ?? 4 }, (_, i) => `flap-${i}`)
  const settled = ['set-0', 'set-1', 'set-2']

  let hub: HubProcess = spawnHub(o.dir, ENV)
  let port = (await hub.listening())!
  const account = await call(port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'crash', instanceLimit: 100_000 })
  if (account.status !== 201) throw new Error(`account: ${JSON.stringify(account.json)}`)
  const token = account.json.token as string
  const accountId = account.json.account.id as number
  for (const name of [...flappers, ...settled]) {
    const r = await call(port, 'POST', '/api/instance/new', token, { name })
    if (r.status !== 201) throw new Error(`create ${name}: ${JSON.stringify(r.json)}`)
  }
  for (const name of flappers) {
    await call(port, 'GET', `/api/instance/connect/${name}`, token)
    await call(port, 'POST', `/api/sim/${name}/scan`, token)
  }
  await until(async () => (await list(port, token)).items.filter((i) => i.status === 'connected').length === flappers.length, { what: 'flappers connected', ms: 15_000 })

  /** Acknowledged creates (name → instance token) still expected to exist. */
  const created = new Map<string, string>()
  const deleted = new Set<string>()
  /** In flight at a kill: resolved from the next restart's list. */
  let maybeCreated = new Set<string>()
  let maybeDeleted = new Map<string, string>()
  const settings = new Map<string, { acked: string; pending: string | null }>(settled.map((n) => [n, { acked: '', pending: null }]))
  let nextCreate = 0
  let nextValue = 0

  const reports: RoundReport[] = []
  for (let round = 0; round < o.rounds; round++) {
    const before = await list(port, token)
    const shown: Shown = { seq: before.seq, versions: new Map() }
    for (const i of before.items) see(shown, i.name, i.version)
    const watcher = watch(port, token, shown)
    const acked = { creates: 0, deletes: 0, settings: 0, statusChanges: 0 }
    let dead = false
    const createdThisRound = new Set<string>()

    const loops: Promise<void>[] = []
    // Creates.
    loops.push(
      (async () => {
        while (!dead) {
          const name = `c-${nextCreate++}`
          maybeCreated.add(name)
          const r = await call(port, 'POST', '/api/instance/new', token, { name }).catch(() => null)
          if (r === null) return
          maybeCreated.delete(name)
          if (r.status === 201) {
            created.set(name, r.json.instance.token)
            createdThisRound.add(name)
            acked.creates++
          }
        }
      })(),
    )
    // Deletes of acknowledged creates.
    loops.push(
      (async () => {
        while (!dead) {
          const names = [...created.keys()]
          if (names.length < 5) {
            await new Promise((r) => setTimeout(r, 5))
            continue
          }
          const name = names[Math.floor(random() * names.length)]!
          maybeDeleted.set(name, created.get(name)!)
          created.delete(name)
          const r = await call(port, 'DELETE', `/api/instance/delete/${name}`, token).catch(() => null)
          if (r === null) return
          maybeDeleted.delete(name)
          if (r.status === 200) {
            deleted.add(name)
            acked.deletes++
          }
        }
      })(),
    )
    // Settings writes, one at a time per instance.
    for (const name of settled) {
      loops.push(
        (async () => {
          while (!dead) {
            const value = `v${nextValue++}`
            const s = settings.get(name)!
            s.pending = value
            const r = await call(port, 'POST', `/api/instance/settings/${name}`, token, { callRejectMessage: value }).catch(() => null)
            if (r === null) return
            s.pending = null
            if (r.status === 200) {
              s.acked = value
              acked.settings++
            }
          }
        })(),
      )
    }
    // Status changes on the flappers; occasionally a drop the simulated session recovers from.
    loops.push(
      (async () => {
        let n = 0
        while (!dead) {
          const name = flappers[n++ % flappers.length]!
          const drop = random() < 0.05
          const r = await (drop
            ? call(port, 'POST', `/api/sim/${name}/close`, token, { code: 428, message: 'Connection Terminated' })
            : call(port, 'POST', `/api/sim/${name}/profile`, token, { name: `p${n}` })
          ).catch(() => null)
          if (r === null) return
          if (r.status === 200) acked.statusChanges++
        }
      })(),
    )
    // List polls: their headers and versions are shown to clients too.
    loops.push(
      (async () => {
        while (!dead) {
          const l = await list(port, token).catch(() => null)
          if (l === null) return
          shown.seq = Math.max(shown.seq, l.seq)
          for (const i of l.items) see(shown, i.name, i.version)
        }
      })(),
    )

    const killAfterMs = Math.round(o.killAfterMs[0] + random() * (o.killAfterMs[1] - o.killAfterMs[0]))
    await new Promise((r) => setTimeout(r, killAfterMs))
    await hub.kill9()
    dead = true
    await Promise.all(loops)
    watcher.terminate()

    hub = spawnHub(o.dir, ENV)
    const next = await hub.listening()
    if (next === null) throw new Error(`round ${round}: the hub did not come back: ${hub.err()}`)
    port = next

    const integrity = readOnly(o.dir, (db) => (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '))

    const after = await list(port, token)
    const names = new Set(after.items.map((i) => i.name as string))
    for (const name of maybeCreated) if (names.has(name)) created.set(name, '')
    for (const [name, instanceToken] of maybeDeleted) {
      if (names.has(name)) created.set(name, instanceToken)
      else deleted.add(name)
    }
    maybeCreated = new Set()
    maybeDeleted = new Map()
    const lost: string[] = []
    for (const [name, instanceToken] of created) {
      if (!names.has(name)) lost.push(name)
      else if (createdThisRound.has(name) && instanceToken !== '') {
        const r = await call(port, 'GET', '/api/instance/list', instanceToken)
        if (r.status !== 200) lost.push(`${name} (token refused: ${r.status} ${JSON.stringify(r.json)})`)
      }
    }
    const resurrected = [...deleted].filter((n) => names.has(n))
    const wrongSettings: RoundReport['wrongSettings'] = []
    for (const [name, s] of settings) {
      const got = after.items.find((i) => i.name === name)?.settings.callRejectMessage
      const allowed = s.pending === null ? [s.acked] : [s.acked, s.pending]
      if (!allowed.includes(got)) wrongSettings.push({ name, got, allowed })
      // What the hub serves now is what the next round builds on.
      s.acked = got
      s.pending = null
    }
    const resume = await resumeFrame(port, token, { epoch: before.epoch, seq: shown.seq })
    // The restart's own changes (sessions restored) would hide reused values: read the new
    // epoch's first ones from the change log once the write-behind has written them, up to the
    // head (or the head is where the epoch started: it has no change yet).
    const head = (await list(port, token)).seq
    await until(() => written(o.dir, accountId, head), { what: `round ${round}: the change log to reach seq ${head}`, ms: 10_000 })
    const firsts = firstOfEpoch(o.dir, accountId, after.epoch)
    const firstSeqAfter = firsts.seq ?? head + 1
    const versionsBack: RoundReport['versionsBack'] = []
    for (const i of after.items) {
      const v = shown.versions.get(i.name)
      const next = firsts.versions.get(i.name) ?? i.version + 1
      if (v !== undefined && next <= v) versionsBack.push({ name: i.name, shown: v, next })
    }
    const report: RoundReport = {
      round,
      killAfterMs,
      acked,
      integrity,
      lost,
      resurrected,
      wrongSettings,
      epochBefore: before.epoch,
      epochAfter: after.epoch,
      resume: { type: resume.type, recovered: resume.recovered, epoch: resume.epoch },
      seqShown: shown.seq,
      firstSeqAfter,
      versionsBack,
    }
    reports.push(report)
    log(
      `round ${round + 1}: killed after ${killAfterMs} ms (${acked.creates} creates, ${acked.deletes} deletes, ${acked.settings} settings, ${acked.statusChanges} status changes acknowledged); ` +
        `integrity ${integrity}, lost ${lost.length}, resurrected ${resurrected.length}, settings wrong ${wrongSettings.length}, ` +
        `seq shown ${shown.seq} → first of the new epoch ${firstSeqAfter}, versions not above those shown ${versionsBack.length}`,
    )
    // The flappers reconnect from their saved sessions; wait so every round has status changes.
    await untilValue(() => list(port, token), (l) => l.items.filter((i) => flappers.includes(i.name) && i.status === 'connected').length === flappers.length, {
      what: 'flappers reconnected after the restart',
      ms: 15_000,
    })
  }
  await hub.stop()
  return reports
}
