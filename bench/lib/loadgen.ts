/**
 * @module The HTTP load generator: `wrk` when it is installed (a C client, cheap per request),
 * else `autocannon` from npm (Node, so it saturates sooner: its ratios are lower bounds). It runs
 * pinned to the load core, bounded in time.
 */
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { LOAD_CORE, ROOT, pinPrefix } from './proc.js'

export type LoadgenKind = 'wrk' | 'autocannon'

export function detectLoadgen(): LoadgenKind {
  const forced = process.env.BENCH_LOADGEN
  if (forced === 'wrk' || forced === 'autocannon') return forced
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined ? 'wrk' : 'autocannon'
}

export function loadgenVersion(kind: LoadgenKind): string {
  if (kind === 'wrk') {
    const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
    return (out.stdout || out.stderr).split('\n')[0]!.split(' Copyright')[0]!.trim()
  }
  try {
    const pkg = spawnSync(process.execPath, ['-p', "require('autocannon/package.json').version"], { cwd: ROOT, encoding: 'utf8' })
    return `autocannon ${pkg.stdout.trim()}`
  } catch {
    return 'autocannon'
  }
}

export interface HttpRun {
  reqPerSec: number
  requests: number
  seconds: number
  p50Ms: number
  p99Ms: number
  /** Responses outside 2xx/3xx, plus socket errors and timeouts. */
  errors: number
}

export interface HttpLoad {
  url: string
  connections: number
  seconds: number
  headers: Record<string, string>
}

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(0, 500)}`))))
  })
}

function wrkMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim())
  if (m === null) return NaN
  const v = Number(m[1])
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000
}

export function parseWrk(out: string): HttpRun {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN)
  const requests = num(/(\d+) requests in/)
  const seconds = wrkMs(/requests in ([\d.]+\w+),/.exec(out)?.[1] ?? '') / 1000
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    requests,
    seconds,
    p50Ms: wrkMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99Ms: wrkMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: (num(/Non-2xx or 3xx responses: (\d+)/) || 0) + (errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  }
}

export async function runHttp(kind: LoadgenKind, load: HttpLoad): Promise<HttpRun> {
  if (kind === 'wrk') {
    const headers = Object.entries(load.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
    const out = await run([...pinPrefix(LOAD_CORE), 'wrk', '-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency', ...headers, load.url])
    return parseWrk(out)
  }
  const headers = Object.entries(load.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`])
  const bin = join(ROOT, 'node_modules/autocannon/autocannon.js')
  const out = await run([...pinPrefix(LOAD_CORE), process.execPath, bin, '-c', String(load.connections), '-d', String(load.seconds), '-j', '-n', ...headers, load.url])
  const j = JSON.parse(out) as {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    statusCodeStats: Record<string, { count: number }>
    requests: { total: number }
    latency: { p50: number; p99: number }
  }
  const redirects = Object.entries(j.statusCodeStats ?? {}).reduce((n, [code, s]) => n + (code.startsWith('3') ? s.count : 0), 0)
  return {
    reqPerSec: j.requests.total / j.duration,
    requests: j.requests.total,
    seconds: j.duration,
    p50Ms: j.latency.p50,
    p99Ms: j.latency.p99,
    errors: j.errors + j.timeouts + j.non2xx - redirects,
  }
}
