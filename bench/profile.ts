/**
 * @module The profile behind a missed target: runs the hub process under `node --cpu-prof`
 * with one scenario's load, then prints where the hub's CPU went (self time by function, and by
 * file). Usage:
 *
 *   npx tsx bench/profile.ts rest-one     # GET /api/instance/list?instanceName=… (c64)
 *   npx tsx bench/profile.ts rest-304     # the same with If-None-Match
 *   npx tsx bench/profile.ts rest-full    # the full list
 *   npx tsx bench/profile.ts persist      # 5,000 status changes/s over 1,000 instances
 *   npx tsx bench/profile.ts fanout       # 5,000 subscribers, 200 changes/s
 *   npx tsx bench/profile.ts restart      # loading 100,000 instances (seeds first: ~40 s)
 *
 * The raw `.cpuprofile` is kept under bench/results/profiles/ (open it in Chrome DevTools).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { sleep } from './lib/clock.js'
import type { BenchContext } from './lib/context.js'
import { detectLoadgen, runHttp } from './lib/loadgen.js'
import { LOAD_CORE, ROOT, SERVER_CORE, startWorker, type Worker } from './lib/proc.js'
import { seededDir } from './lib/seeded.js'
import { renderTable } from './lib/table.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

export interface ProfileSummary {
  totalMs: number
  byFunction: { name: string; ms: number; share: number }[]
  byFile: { name: string; ms: number; share: number }[]
}

function where(url: string): string {
  if (url === '') return '(native)'
  const path = url.replace(/^file:\/\//, '')
  return path.startsWith(ROOT) ? relative(ROOT, path) : path.replace(/^.*node_modules\//, 'node_modules/')
}

export function summarise(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] }
  const perSample = (p.endTime - p.startTime) / 1000 / Math.max(1, p.samples.length)
  const fn = new Map<string, number>()
  const files = new Map<string, number>()
  let total = 0
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0
    if (hits === 0 || n.callFrame.functionName === '(idle)') continue
    const ms = hits * perSample
    total += ms
    const f = where(n.callFrame.url)
    // tsx emits each module on one line, so line numbers of our own files carry nothing.
    const line = n.callFrame.url.startsWith('node:') ? `:${n.callFrame.lineNumber + 1}` : ''
    const name = `${n.callFrame.functionName || '(anonymous)'} ${f}${line}`
    fn.set(name, (fn.get(name) ?? 0) + ms)
    const group = f.startsWith('node_modules/') ? f.split('/').slice(0, 2).join('/') : f.startsWith('node:') ? 'node internals' : f
    files.set(group, (files.get(group) ?? 0) + ms)
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / total }))
  return { totalMs: total, byFunction: rank(fn), byFile: rank(files) }
}

const LOADS: Record<string, { env?: Record<string, string>; run: (hub: Worker) => Promise<void> }> = {
  'rest-one': { run: (hub) => http(hub, `/api/instance/list?instanceName=${hub.ready.firstNames[0]}`) },
  'rest-304': { run: (hub) => http(hub, '/api/instance/list', true) },
  'rest-full': { run: (hub) => http(hub, '/api/instance/list') },
  persist: {
    env: { BENCH_ACCOUNTS: '10', BENCH_PER_ACCOUNT: '100' },
    run: async (hub) => void (await hub.request('changes', { rate: 5000, seconds: 8, tickMs: 1, scope: 'all' })),
  },
  fanout: {
    run: async (hub) => {
      const client = await startWorker('bench/ws-client.ts', { core: LOAD_CORE, nofile: 65536 })
      const frame = JSON.stringify({ type: 'subscribe', id: '1', instances: '*' })
      await client.request('connect', { port: hub.ready.port, path: '/ws', token: hub.ready.token, n: 5000, frame, sample: 20 })
      await sleep(500)
      await hub.request('changes', { rate: 200, seconds: 8, tickMs: 50 })
      await client.stop()
    },
  },
  restart: { run: async () => {} },
}

/** Requests served during the profiled window, for "JS µs per request". */
let requests = 0

async function http(hub: Worker, path: string, notModified = false): Promise<void> {
  const url = `http://127.0.0.1:${hub.ready.port}${path}`
  const headers: Record<string, string> = { token: String(hub.ready.token) }
  if (notModified) headers['If-None-Match'] = (await fetch(url, { headers })).headers.get('etag') ?? ''
  const r = await runHttp(detectLoadgen(), { url, connections: 64, seconds: 8, headers })
  requests = r.requests
  console.log(`${Math.round(r.reqPerSec)} req/s (c64, 8 s)`)
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'rest-one'
  const load = LOADS[which]
  if (load === undefined) throw new Error(`unknown load ${which}; known: ${Object.keys(LOADS).join(', ')}`)
  const out = join(ROOT, 'bench/results/profiles', which)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const tmp = mkdtempSync(join(tmpdir(), 'statushub-profile-'))
  try {
    let env = load.env
    if (which === 'restart') {
      const ctx: BenchContext = { quick: false, rounds: 1, loadgen: detectLoadgen(), tmp, log: console.log, quiet: async () => 0 }
      env = { BENCH_DATA_DIR: (await seededDir(ctx, 100_000)).dir }
    }
    const file = join(out, `${which}.cpuprofile`)
    if (which === 'restart') {
      // Start-up is the subject here: profile the whole process.
      const hub = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out, '--cpu-prof-interval', '200'], env, readyTimeoutMs: 10 * 60_000 })
      await hub.stop()
    } else {
      // Only the load window: start-up (module compilation) would drown the steady state.
      const hub = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, env, nofile: 65536 })
      await hub.request('profile-start', { intervalUs: 200 })
      await load.run(hub)
      await hub.request('profile-stop', { file })
      await hub.stop()
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('no profile was written')
  const s = summarise(join(out, file))
  const row = (x: { name: string; ms: number; share: number }) => [x.name, x.ms.toFixed(0), `${(x.share * 100).toFixed(1)}%`]
  const perRequest = requests > 0 ? ` · ${((s.totalMs * 1000) / requests).toFixed(2)} µs of JS-side CPU per request (kernel time not sampled)` : ''
  console.log(`\nprofile ${which}: ${s.totalMs.toFixed(0)} ms of hub CPU sampled (idle excluded)${perRequest} · ${relative(ROOT, join(out, file))}\n`)
  console.log(renderTable({ title: 'Self time by function', headers: ['function', 'ms', 'share'], align: ['l', 'r', 'r'], rows: s.byFunction.map(row) }))
  console.log()
  console.log(renderTable({ title: 'Self time by file', headers: ['file', 'ms', 'share'], align: ['l', 'r', 'r'], rows: s.byFile.slice(0, 15).map(row) }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
