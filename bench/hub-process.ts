/**
 * @module The hub under test, as its own process: the real hub (`startHub` with the streaming
 * edges) on a data directory, seeded with the shared fixture on first start. The status changes
 * are generated in here, where Baileys events would arrive, and the bench steers it over IPC:
 * `changes`, `stats`, `gc`, `render-all`, `profile-start`, `profile-stop`, `exit`.
 *
 * Environment: BENCH_DATA_DIR (a temp dir when unset, removed at exit), BENCH_ACCOUNTS and
 * BENCH_PER_ACCOUNT (seed size, default 1 × 100). Other HUB_* variables apply as they would to
 * `npm start` (e.g. HUB_PERSIST_INTERVAL_MS=20 npm run bench), except the address, the data
 * directory and the rate limits and per-account budgets, which the bench lifts (one bench account
 * plays every tenant); BENCH_OWN_LIMITS=1 keeps those from HUB_* (the noisy-neighbour scenario
 * measures them).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'
import pino from 'pino'
import { startHub } from '../src/app/compose.js'
import { loadConfig } from '../src/app/config.js'
import type { AccountView } from '../src/hub/model.js'
import { changePatch, seedAccount } from './fixture.js'
import { monoMs } from './lib/clock.js'
import { pace } from './lib/pacer.js'
import { sendFatal, sendReady, serveRequests } from './lib/proc.js'

const HIGH = '1000000000'
const ADMIN_TOKEN = 'bench-admin-token-0000000000'
const TOKENS_FILE = 'bench-tokens.json'

/**
 * Time the event-loop thread spent runnable but not running (/proc schedstat): other processes
 * on its core. It tells a stall caused by the machine from one caused by the hub. NaN off Linux.
 */
function runqueueWaitMs(): number {
  try {
    return Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]) / 1e6
  } catch {
    return NaN
  }
}

async function main(): Promise<void> {
  const env = process.env
  const tempDir = env.BENCH_DATA_DIR === undefined
  const dataDir = env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'statushub-bench-'))
  const hubEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('HUB_')))
  const cfg = loadConfig({
    HUB_LOG_LEVEL: 'error',
    ...hubEnv,
    HUB_HOST: '127.0.0.1',
    HUB_PORT: '0',
    HUB_DATA_DIR: dataDir,
    HUB_ADMIN_TOKEN: ADMIN_TOKEN,
    ...(env.BENCH_OWN_LIMITS === '1'
      ? {}
      : {
          // The bench is one client hammering one token: the limits would measure the 429 path.
          HUB_RATE_LIMIT_PER_MIN: HIGH,
          HUB_CREATE_RATE_LIMIT_PER_MIN: HIGH,
          HUB_UNAUTH_RATE_LIMIT_PER_MIN: HIGH,
          // Likewise the per-account budgets: one bench account plays every tenant.
          HUB_ACCOUNT_SNAPSHOT_BYTES_PER_SEC: HIGH,
          HUB_ACCOUNT_DEEP_RESUMES_PER_SEC: HIGH,
          HUB_ACCOUNT_RENDER_BYTES_PER_SEC: HIGH,
        }),
  })
  if (tempDir) process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }))
  const log = pino({ level: cfg.logLevel }, pino.destination(2))

  const beforeStart = performance.now()
  const startCalledAtMono = monoMs()
  const running = await startHub(cfg, { log, whatsapp: null, dashboardDir: null })
  const startHubMs = performance.now() - beforeStart
  const { hub } = running

  // Resume instrumentation: how many resumes the ring served and how many read SQLite
  // (readChanges), and how many rings were warmed from the change log after a restart (recentChanges).
  const reads = { replayFrom: 0, readChanges: 0, recentChanges: 0 }
  const store = (hub as unknown as { store: { readChanges: (...a: unknown[]) => unknown; recentChanges: (...a: unknown[]) => unknown } }).store
  const readChanges = store.readChanges.bind(store)
  store.readChanges = (...a: unknown[]) => {
    reads.readChanges++
    return readChanges(...a)
  }
  const recentChanges = store.recentChanges.bind(store)
  store.recentChanges = (...a: unknown[]) => {
    reads.recentChanges++
    return recentChanges(...a)
  }
  // Persistence instrumentation: how long each write-behind transaction holds the event loop.
  const writes = { maxMs: 0, over5Ms: 0, totalMs: 0 }
  const writeStore = store as unknown as { writeBatch: (b: unknown) => void }
  const writeBatch = writeStore.writeBatch.bind(store)
  writeStore.writeBatch = (b: unknown) => {
    const t0 = performance.now()
    try {
      writeBatch(b)
    } finally {
      const ms = performance.now() - t0
      writes.totalMs += ms
      writes.maxMs = Math.max(writes.maxMs, ms)
      if (ms > 5) writes.over5Ms++
    }
  }
  // Garbage-collection pauses, the other thing that can hold the loop.
  const gcs = { maxMs: 0, totalMs: 0 }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.totalMs += e.duration
      gcs.maxMs = Math.max(gcs.maxMs, e.duration)
    }
  }).observe({ entryTypes: ['gc'] })
  const replayFrom = hub.replayFrom.bind(hub)
  hub.replayFrom = (accountId, afterSeq, maxReplay) => {
    reads.replayFrom++
    return replayFrom(accountId, afterSeq, maxReplay)
  }

  // Seed on first start; the tokens are kept beside the database (the hub stores only hashes).
  const tokensPath = join(dataDir, TOKENS_FILE)
  let tokens: string[]
  let seedMs = 0
  if (existsSync(tokensPath)) {
    tokens = JSON.parse(readFileSync(tokensPath, 'utf8')) as string[]
  } else {
    const accounts = Number(env.BENCH_ACCOUNTS ?? 1)
    const perAccount = Number(env.BENCH_PER_ACCOUNT ?? 100)
    const t0 = performance.now()
    tokens = []
    for (let a = 0; a < accounts; a++) {
      const { account, token } = hub.createAccount(`bench-${String(a + 1).padStart(4, '0')}`, perAccount)
      seedAccount(hub, account.id, a * perAccount, perAccount)
      hub.flush()
      tokens.push(token)
    }
    writeFileSync(tokensPath, JSON.stringify(tokens))
    seedMs = performance.now() - t0
  }
  const benchAccounts = (): AccountView[] => hub.accounts().filter((a) => a.name.startsWith('bench-'))
  // null only for the empty baseline of the memory scenario (BENCH_ACCOUNTS=0).
  const first = benchAccounts()[0] ?? null
  const instances = benchAccounts().reduce((n, a) => n + a.ids.length, 0)

  const eld = monitorEventLoopDelay({ resolution: 1 })
  eld.enable()
  const persist = (hub as unknown as { persist: { pending: number } }).persist

  const stats = () => {
    const m = process.memoryUsage()
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      cpu: process.cpuUsage(),
      persist: { ...hub.persistStats },
      pending: persist.pending,
      reads: { ...reads },
      seq: first?.seq ?? 0,
      epoch: hub.epoch,
      subscribers: first === null ? 0 : running.http.app.numSubscribers(`a:${first.id}`),
    }
  }

  let k = 0
  let profiler: Session | null = null
  serveRequests({
    stats,
    gc() {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      gc?.()
      return stats()
    },
    async changes(msg) {
      const ids = msg.scope === 'all' || first === null ? benchAccounts().flatMap((a) => a.ids) : [...first.ids]
      if (ids.length === 0) throw new Error('no instances to change')
      const before = stats()
      const cpu0 = process.cpuUsage()
      const wait0 = runqueueWaitMs()
      eld.reset()
      Object.assign(writes, { maxMs: 0, over5Ms: 0, totalMs: 0 })
      Object.assign(gcs, { maxMs: 0, totalMs: 0 })
      let pendingMax = 0
      const r = await pace(Number(msg.rate), Number(msg.seconds), Number(msg.tickMs ?? 50), (n) => {
        for (let j = 0; j < n; j++, k++) {
          const flip = Math.floor(k / ids.length) % 2 === 1
          hub.updateStatus(ids[k % ids.length]!, changePatch(flip, monoMs()))
        }
        pendingMax = Math.max(pendingMax, persist.pending)
      })
      const cpu = process.cpuUsage(cpu0)
      const waitMs = runqueueWaitMs() - wait0
      const after = stats()
      return {
        ...r,
        cpuUs: cpu.user + cpu.system,
        eld: { maxMs: eld.max / 1e6, p99Ms: eld.percentile(99) / 1e6, meanMs: eld.mean / 1e6 },
        transactions: after.persist.transactions - before.persist.transactions,
        rows: after.persist.rows - before.persist.rows,
        pendingMax,
        writes: { ...writes },
        runqueueWaitMs: waitMs,
        gc: { ...gcs },
        seq: after.seq,
      }
    },
    /** Renders every bench account's list once, as if each account had polled after a restart. */
    'render-all'() {
      const t0 = performance.now()
      let bytes = 0
      for (let i = 0; i < tokens.length; i++) {
        const p = hub.authenticate(tokens[i]!)
        if (p !== null) bytes += running.http.lists.list('ryze', p, undefined).body.length
      }
      return { ms: performance.now() - t0, bytes }
    },
    /** Samples the hub's CPU (V8 profiler, in-process) from now until `profile-stop`. */
    async 'profile-start'(msg) {
      profiler ??= new Session()
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.setSamplingInterval', { interval: Number(msg.intervalUs ?? 200) })
      await profiler.post('Profiler.start')
    },
    async 'profile-stop'(msg) {
      if (profiler === null) throw new Error('profile-start first')
      const { profile } = await profiler.post('Profiler.stop')
      writeFileSync(String(msg.file), JSON.stringify(profile))
      profiler.disconnect()
      profiler = null
      return { file: msg.file }
    },
    async exit() {
      eld.disable()
      await running.stop()
    },
  })

  sendReady({
    port: running.port,
    token: tokens[0],
    adminToken: ADMIN_TOKEN,
    tokens: tokens.length,
    epoch: hub.epoch,
    firstAccountId: first?.id ?? null,
    firstNames: first === null ? [] : hub.instancesOf(first.id).slice(0, 3).map((i) => i.name),
    instances,
    startHubMs,
    processUptimeAtStartMs: beforeStart,
    /** When startHub was called, on the clock the bench shares (the restart figure starts here). */
    startCalledAtMono,
    seedMs,
    dataDir,
  })
}

main().catch(sendFatal)
