/**
 * @module Scenario 1, REST polling: `GET /api/instance/list` with a TokenAccount over 100
 * fixture instances, the one-name filter, the same request answered 304 with `If-None-Match`,
 * and the Wachat view, each against (a) the ceiling, a bare uWS handler answering the same bytes
 * from a prebuilt Buffer, and (b) the peer-style baseline, Express reading SQLite and
 * serialising on every request. Every cell runs once per round, all cells round-robin.
 *
 * The compressed poll (`Accept-Encoding: gzip`, and `br`) is measured as a ratio to the
 * uncompressed one on the same hub: its body is compressed once per cached body, so it should cost
 * about what the uncompressed poll costs while sending a fraction of the bytes.
 *
 * `BENCH_BASELINE=<dir>` (another checkout of statushub, with its node_modules) adds that tree's
 * hub as a server in the same rounds: `base-*` cells and hub / baseline ratios, a before/after of
 * a change measured in one run rather than in two runs on a machine whose speed drifts.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext, Headline, ScenarioOutput } from './lib/context.js'
import { measureHttp, pairedRatios, type HttpCell } from './lib/measure.js'
import { SERVER_CORE, startWorker, type Worker } from './lib/proc.js'
import { fmtBytes, fmtCount, fmtNum, fmtRatio, fmtSpread, spread } from './lib/stats.js'
import type { Table } from './lib/table.js'

type ServerName = 'hub' | 'ceiling' | 'peer' | 'base'

interface CellSpec {
  id: string
  server: ServerName
  path: string
  headers: Record<string, string>
  conns: number
}

export interface RestResult {
  bodyBytes: { full: number; one: number; wachat: number; item: number; gzip: number; br: number }
  /** The BENCH_BASELINE tree, when one ran. */
  baseline: string | null
  cells: Record<string, HttpCell[]>
  ratios: Record<string, number[]>
}

export const REST_TARGETS = { full: 0.85, one: 0.8, notModified: 0.9, peer: 10 }

async function fetchBody(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer; etag: string; encoding: string | null; wireBytes: number }> {
  // fetch asks for gzip unless told otherwise, and a compressed answer has another ETag than the
  // uncompressed one wrk polls (wrk sends no Accept-Encoding): ask for what the cell will ask for.
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'accept-encoding': 'identity', ...headers } })
  // fetch decodes a compressed body; Content-Length still says what crossed the wire.
  const body = Buffer.from(await r.arrayBuffer())
  const encoding = r.headers.get('content-encoding')
  return { status: r.status, body, etag: r.headers.get('etag') ?? '', encoding, wireBytes: Number(r.headers.get('content-length') ?? body.length) }
}

export async function runRestPolling(ctx: BenchContext): Promise<ScenarioOutput> {
  const hub = await startWorker('bench/hub-process.ts', { core: SERVER_CORE, nodeArgs: ['--expose-gc'] })
  const token = String(hub.ready.token)
  const oneName = String(hub.ready.firstNames[0])
  const auth = { token }
  const full = await fetchBody(hub.ready.port, '/api/instance/list', auth)
  const one = await fetchBody(hub.ready.port, `/api/instance/list?instanceName=${oneName}`, auth)
  const wachat = await fetchBody(hub.ready.port, '/api/v1/instance/list', auth)
  if (full.status !== 200 || one.status !== 200 || wachat.status !== 200) throw new Error('the hub did not answer its lists with 200')
  const items = (JSON.parse(full.body.toString()) as { instances: unknown[] }).instances
  const files = { full: join(ctx.tmp, 'full.json'), one: join(ctx.tmp, 'one.json'), wachat: join(ctx.tmp, 'wachat.json') }
  writeFileSync(files.full, full.body)
  writeFileSync(files.one, one.body)
  writeFileSync(files.wachat, wachat.body)
  writeFileSync(join(ctx.tmp, 'bodies.json'), JSON.stringify({ ...files, etag: full.etag }))
  writeFileSync(join(ctx.tmp, 'items.json'), JSON.stringify(items))

  const ceiling = await startWorker('bench/ref/ceiling.ts', { core: SERVER_CORE, env: { BENCH_BODIES: join(ctx.tmp, 'bodies.json') } })
  const peer = await startWorker('bench/ref/express-peer.ts', {
    core: SERVER_CORE,
    env: { BENCH_ITEMS: join(ctx.tmp, 'items.json'), BENCH_TOKEN: token, BENCH_DB: join(ctx.tmp, 'peer.db') },
  })
  const baselineDir = process.env.BENCH_BASELINE ?? null
  const base = baselineDir === null ? null : await startWorker(join(baselineDir, 'bench/hub-process.ts'), { core: SERVER_CORE, nodeArgs: ['--expose-gc'] })
  const servers: Partial<Record<ServerName, Worker>> = { hub, ceiling, peer, ...(base === null ? {} : { base }) }
  const baseAuth = base === null ? null : { token: String(base.ready.token) }
  try {
    // Every server must answer what the cell claims before anything is timed.
    const notModified = await fetchBody(hub.ready.port, '/api/instance/list', { ...auth, 'if-none-match': full.etag })
    if (notModified.status !== 304) throw new Error(`the hub answered If-None-Match with ${notModified.status}, not 304`)
    const peerFull = await fetchBody(peer.ready.port, '/api/instance/list', auth)
    const ceilFull = await fetchBody(ceiling.ready.port, '/api/instance/list', auth)
    if (peerFull.status !== 200 || JSON.parse(peerFull.body.toString()).instances.length !== items.length) throw new Error('the peer baseline serves a different list')
    if (!ceilFull.body.equals(full.body)) throw new Error('the ceiling serves different bytes')
    const gzip = await fetchBody(hub.ready.port, '/api/instance/list', { ...auth, 'accept-encoding': 'gzip' })
    const br = await fetchBody(hub.ready.port, '/api/instance/list', { ...auth, 'accept-encoding': 'br' })
    // An older hub under `npm run bench:ab` may not compress at all: its compressed cells are left out.
    const compresses = !(process.env.BENCH_HUB_ROOT && gzip.encoding === null && br.encoding === null)
    if (compresses && (full.encoding !== null || gzip.encoding !== 'gzip' || br.encoding !== 'br' || !gzip.body.equals(full.body) || !br.body.equals(full.body))) {
      throw new Error(`the hub did not answer Accept-Encoding with the same list compressed (${gzip.encoding}, ${br.encoding})`)
    }
    let baseEtag = ''
    if (base !== null && baseAuth !== null) {
      const b = await fetchBody(base.ready.port, '/api/instance/list', baseAuth)
      if (b.status !== 200 || JSON.parse(b.body.toString()).instances.length !== items.length) throw new Error('the baseline hub serves a different list')
      baseEtag = b.etag
    }

    const connSet = ctx.quick ? [64] : [64, 256]
    const seconds = ctx.quick ? 1 : 4
    const specs: CellSpec[] = []
    const q = `?instanceName=${oneName}`
    for (const c of connSet) {
      for (const s of ['ceiling', 'hub', 'peer'] as const) specs.push({ id: `${s}-full-c${c}`, server: s, path: '/api/instance/list', headers: auth, conns: c })
      for (const s of ['ceiling', 'hub', 'peer'] as const) specs.push({ id: `${s}-one-c${c}`, server: s, path: `/api/instance/list${q}`, headers: auth, conns: c })
      for (const s of ['hub', 'ceiling'] as const) {
        specs.push({ id: `${s}-304-c${c}`, server: s, path: '/api/instance/list', headers: { ...auth, 'If-None-Match': full.etag }, conns: c })
      }
      if (baseAuth !== null) {
        specs.push({ id: `base-full-c${c}`, server: 'base', path: '/api/instance/list', headers: baseAuth, conns: c })
        specs.push({ id: `base-one-c${c}`, server: 'base', path: `/api/instance/list${q}`, headers: baseAuth, conns: c })
        specs.push({ id: `base-304-c${c}`, server: 'base', path: '/api/instance/list', headers: { ...baseAuth, 'If-None-Match': baseEtag }, conns: c })
      }
    }
    for (const coding of compresses ? (['gzip', 'br'] as const) : []) {
      specs.push({ id: `hub-${coding}-c64`, server: 'hub', path: '/api/instance/list', headers: { ...auth, 'Accept-Encoding': coding }, conns: 64 })
    }
    for (const s of ['ceiling', 'hub'] as const) specs.push({ id: `${s}-wachat-c64`, server: s, path: '/api/v1/instance/list', headers: auth, conns: 64 })

    const load = (spec: CellSpec, secs: number) =>
      measureHttp(
        ctx.loadgen,
        { url: `http://127.0.0.1:${servers[spec.server]!.ready.port}${spec.path}`, connections: spec.conns, seconds: secs, headers: spec.headers },
        servers[spec.server]!.pid,
      )
    if (!ctx.quick) {
      ctx.log('  warm-up (1 s per server and path, discarded)')
      const seen = new Set<string>()
      for (const spec of specs) {
        const key = `${spec.server} ${spec.path} ${JSON.stringify(spec.headers)}`
        if (seen.has(key)) continue
        seen.add(key)
        await load({ ...spec, conns: 64 }, 1)
      }
    }
    const cells: Record<string, HttpCell[]> = {}
    for (let round = 0; round < ctx.rounds; round++) {
      await ctx.quiet(`rest round ${round + 1}`)
      for (const spec of specs) {
        const cell = await load(spec, seconds)
        ;(cells[spec.id] ??= []).push(cell)
        ctx.log(
          `  round ${round + 1} ${spec.id.padEnd(18)} ${fmtCount(cell.reqPerSec).padStart(8)} req/s  p99 ${fmtNum(cell.p99Ms)} ms  ` +
            `cores ${pct(cell.serverCore)}/${pct(cell.loadCore)}${cell.clientBound ? '  (load-generator bound)' : ''}${cell.errors ? `  errors ${cell.errors}` : ''}`,
        )
      }
    }

    const rps = (id: string) => (cells[id] ?? []).map((c) => c.reqPerSec)
    const cap = (id: string) => (cells[id] ?? []).map((c) => c.perServerCore)
    const ratios: Record<string, number[]> = {}
    for (const c of connSet) {
      ratios[`full-c${c}`] = pairedRatios(rps(`hub-full-c${c}`), rps(`ceiling-full-c${c}`))
      ratios[`one-c${c}`] = pairedRatios(rps(`hub-one-c${c}`), rps(`ceiling-one-c${c}`))
      ratios[`304-c${c}`] = pairedRatios(rps(`hub-304-c${c}`), rps(`ceiling-one-c${c}`))
      ratios[`304-vs-bare304-c${c}`] = pairedRatios(rps(`hub-304-c${c}`), rps(`ceiling-304-c${c}`))
      ratios[`peer-full-c${c}`] = pairedRatios(rps(`hub-full-c${c}`), rps(`peer-full-c${c}`))
      ratios[`peer-one-c${c}`] = pairedRatios(rps(`hub-one-c${c}`), rps(`peer-one-c${c}`))
      ratios[`full-capacity-c${c}`] = pairedRatios(cap(`hub-full-c${c}`), cap(`ceiling-full-c${c}`))
      ratios[`one-capacity-c${c}`] = pairedRatios(cap(`hub-one-c${c}`), cap(`ceiling-one-c${c}`))
      if (base !== null) {
        for (const k of ['full', 'one', '304']) {
          ratios[`base-${k}-c${c}`] = pairedRatios(rps(`hub-${k}-c${c}`), rps(`base-${k}-c${c}`))
          ratios[`base-${k}-capacity-c${c}`] = pairedRatios(cap(`hub-${k}-c${c}`), cap(`base-${k}-c${c}`))
        }
      }
    }
    for (const coding of compresses ? ['gzip', 'br'] : []) {
      ratios[`${coding}-c64`] = pairedRatios(rps(`hub-${coding}-c64`), rps('hub-full-c64'))
      ratios[`${coding}-capacity-c64`] = pairedRatios(cap(`hub-${coding}-c64`), cap('hub-full-c64'))
    }
    ratios['wachat-c64'] = pairedRatios(rps('hub-wachat-c64'), rps('ceiling-wachat-c64'))

    const result: RestResult = {
      bodyBytes: {
        full: full.body.length,
        one: one.body.length,
        wachat: wachat.body.length,
        item: Math.round(full.body.length / items.length),
        gzip: gzip.wireBytes,
        br: br.wireBytes,
      },
      baseline: baselineDir,
      cells,
      ratios,
    }
    return restOutput(result, specs, connSet)
  } finally {
    await Promise.all([hub.stop(), ceiling.stop(), peer.stop(), base?.stop()])
  }
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–'
}

function restOutput(r: RestResult, specs: CellSpec[], connSet: number[]): ScenarioOutput {
  const cellTable: Table = {
    title: 'REST polling: every cell (median of the rounds, min–max)',
    headers: ['cell', 'conns', 'req/s', 'p99 ms', 'server µs/req', 'req/s per server core', 'server / load core busy', 'errors'],
    rows: specs.map((s) => {
      const runs = r.cells[s.id] ?? []
      const m = (f: (c: HttpCell) => number) => spread(runs.map(f))
      return [
        s.id.replace(/-c\d+$/, ''),
        String(s.conns),
        fmtSpread(m((c) => c.reqPerSec)),
        fmtSpread(m((c) => c.p99Ms), (x) => fmtNum(x)),
        fmtNum(m((c) => c.serverUsPerReq).median, 1),
        fmtCount(m((c) => c.perServerCore).median),
        `${pct(m((c) => c.serverCore).median)} / ${pct(m((c) => c.loadCore).median)}${runs.some((c) => c.clientBound) ? ' ⚠' : ''}`,
        String(runs.reduce((n, c) => n + c.errors, 0)),
      ]
    }),
    notes: [
      `Bodies: full list ${fmtBytes(r.bodyBytes.full)} (100 items, ${r.bodyBytes.item} B each), one instance ${fmtBytes(r.bodyBytes.one)}, Wachat list ${fmtBytes(r.bodyBytes.wachat)}; ` +
        `the full list compressed: gzip ${fmtBytes(r.bodyBytes.gzip)} (${fmtNum((100 * r.bodyBytes.gzip) / r.bodyBytes.full, 1)}%), br ${fmtBytes(r.bodyBytes.br)} (${fmtNum((100 * r.bodyBytes.br) / r.bodyBytes.full, 1)}%).`,
      ...(r.baseline === null ? [] : [`base = the hub of ${r.baseline} (BENCH_BASELINE), in the same rounds.`]),
      'ceiling = bare uWS answering the same bytes from a Buffer; peer = Express 4 reading SQLite and calling res.json per request.',
      '⚠ = the load generator core was saturated while the server core was not (a lower bound for that server); "req/s per server core" extrapolates req/s to a fully busy server core.',
    ],
  }
  const ratioRows: string[][] = []
  const headline: Headline[] = []
  const numbers: Record<string, number> = {}
  const add = (figure: string, key: string, target: number | null, note = '') => {
    const s = spread(r.ratios[key] ?? [])
    const met = target === null ? null : s.median >= target
    ratioRows.push([figure, fmtSpread(s, fmtRatio), target === null ? '–' : `≥ ${target}×`, met === null ? '' : met ? 'met' : 'MISSED', note])
    headline.push({ figure: `REST ${figure}`, value: fmtSpread(s, fmtRatio), median: s.median, target: target === null ? '–' : `≥ ${target}×`, met })
  }
  for (const c of connSet) {
    add(`full list c${c}: hub / ceiling`, `full-c${c}`, REST_TARGETS.full)
    add(`one-name filter c${c}: hub / ceiling`, `one-c${c}`, REST_TARGETS.one)
    add(`304 c${c}: hub / one-instance ceiling`, `304-c${c}`, REST_TARGETS.notModified)
    add(`full list c${c}: hub / peer (Express + SQLite)`, `peer-full-c${c}`, REST_TARGETS.peer)
  }
  for (const c of connSet) {
    add(`full list c${c}: server-core capacity hub / ceiling`, `full-capacity-c${c}`, null, 'req/s per busy server core')
    add(`one-name filter c${c}: server-core capacity hub / ceiling`, `one-capacity-c${c}`, null, 'req/s per busy server core')
    add(`304 c${c}: hub / bare-uWS 304`, `304-vs-bare304-c${c}`, null)
    add(`one-name filter c${c}: hub / peer`, `peer-one-c${c}`, null)
  }
  add('Wachat list c64: hub / ceiling', 'wachat-c64', null)
  for (const coding of ['gzip', 'br'].filter((k) => r.ratios[`${k}-c64`] !== undefined)) {
    add(`compressed poll (${coding}) c64: hub / uncompressed poll`, `${coding}-c64`, null, `${fmtBytes(r.bodyBytes[coding as 'gzip' | 'br'])} a body instead of ${fmtBytes(r.bodyBytes.full)}`)
    add(`compressed poll (${coding}) c64: server-core capacity / uncompressed`, `${coding}-capacity-c64`, null, 'req/s per busy server core')
  }
  if (r.baseline !== null) {
    for (const c of connSet) {
      for (const [k, what] of [['full', 'full list'], ['one', 'one-name filter'], ['304', '304']] as const) {
        add(`${what} c${c}: hub / baseline`, `base-${k}-c${c}`, null, 'req/s')
        add(`${what} c${c}: server-core capacity hub / baseline`, `base-${k}-capacity-c${c}`, null, 'req/s per busy server core')
      }
    }
  }
  for (const [id, runs] of Object.entries(r.cells)) {
    numbers[`${id}.reqPerSec`] = spread(runs.map((c) => c.reqPerSec)).median
    numbers[`${id}.p99Ms`] = spread(runs.map((c) => c.p99Ms)).median
  }
  for (const [k, v] of Object.entries(r.ratios)) numbers[`ratio.${k}`] = spread(v).median
  return {
    name: 'rest',
    title: '1. REST polling',
    result: r,
    tables: [
      { title: 'REST polling: ratios (per-round pairs; median, min–max)', headers: ['figure', 'ratio', 'target', '', 'note'], align: ['l', 'r', 'r', 'l', 'l'], rows: ratioRows },
      cellTable,
    ],
    headline: headline.filter((h) => h.met !== null || h.figure.includes('Wachat') || h.figure === 'REST compressed poll (gzip) c64: hub / uncompressed poll'),
    numbers,
  }
}
