/**
 * Malformed HTTP/1.1 requests as raw bytes, generated with fast-check: bodies, headers, methods,
 * paths, chunking, framing, slow delivery, pipelining, non-UTF-8, protocol versions. Each case is
 * built so it can never change data: a valid token only reaches reads, unknown names and ids, or
 * body routes with a body that is invalid by construction (every schema is strict, and every
 * object body carries an unknown key). Chunking and framing cases, whose body may end up empty
 * (an empty body reads as {}), only name instances that do not exist.
 */
import fc from 'fast-check'

export interface FuzzTarget {
  accountToken: string
  instanceToken: string
  adminToken: string
  /** Instances that exist (read and body routes only). */
  existing: string[]
}

export interface FuzzCase {
  kind: string
  /** Written in order, `delayMs` apart. */
  pieces: Buffer[]
  delayMs: number
  /** Requests inside (a pipelined case holds several). */
  requests: number
  /** Methods and paths of the requests, in order (the dashboard's non-JSON answers; no write may succeed). */
  methods: string[]
  paths: string[]
}

const BODY_ROUTES = [
  '/api/instance/new',
  '/api/instance/settings/:i',
  '/api/instance/proxy/:i',
  '/api/instance/s3/:i',
  '/api/events/webhook/:i',
  '/api/events/websocket/:i',
  '/api/admin/accounts',
  '/api/sim/:i/close',
  '/api/sim/:i/online',
  '/api/sim/:i/profile',
]
const READ_ROUTES = [
  '/api/instance/list',
  '/api/v1/instance/list',
  '/api/instance/getSettings/:i',
  '/api/instance/getProxy/:i',
  '/api/instance/getS3/:i',
  '/api/events/getWebhook/:i',
  '/api/events/getWebsocket/:i',
  '/api/admin/accounts',
  '/api/sim/status',
  '/healthz',
  '/',
]
/** Routes that act without a body: only ever with names and ids that do not exist. */
const ACTION_ROUTES = [
  ['DELETE', '/api/instance/delete/:i'],
  ['POST', '/api/instance/token/:i'],
  ['GET', '/api/instance/connect/:i'],
  ['POST', '/api/instance/reconnect/:i'],
  ['DELETE', '/api/instance/logout/:i'],
  ['POST', '/api/sim/:i/scan'],
  ['DELETE', '/api/admin/accounts/:i'],
  ['POST', '/api/admin/accounts/:i/token'],
] as const

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a))
const latin = (max: number) => fc.string({ maxLength: max, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) })
/** Names no instance has: the `zz` prefix is not in the fixture. */
const unknownName = fc.oneof(
  latin(40).map((s) => `zz${encodeURIComponent(s)}`),
  bytes(20).map((b) => `zz${[...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')}`),
  fc.constantFrom('zz..', 'zz%00', 'zz%2F..%2F', 'zz' + 'x'.repeat(300), 'zz%C3%28', 'zz%', 'zz%ZZ', '99999999999999999999'),
)

function tokenHeader(t: FuzzTarget): fc.Arbitrary<string[]> {
  return fc.oneof(
    fc.constant<string[]>([`token: ${t.accountToken}`]),
    fc.constant<string[]>([`token: ${t.instanceToken}`]),
    fc.constant<string[]>([`token: ${t.adminToken}`]),
    fc.constant<string[]>([`Authorization: Bearer ${t.accountToken}`]),
    fc.constant<string[]>([]),
    latin(80).map((s) => [`token: ${s}`]),
    latin(80).map((s) => [`Authorization: ${s}`]),
    fc.constant<string[]>([`Authorization: Bearer ${'A'.repeat(20_000)}`]),
    fc.constant<string[]>([`token: ${t.accountToken}`, `token: ${t.adminToken}`]),
    fc.constant<string[]>([`Authorization: Basic ${Buffer.from('a:b').toString('base64')}`]),
  )
}

/** A JSON body refused by every route: never a valid object. */
const badJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.jsonValue().map((v) => {
    const body = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v, zzfuzz: 1 } : v
    return Buffer.from(JSON.stringify(body) ?? 'null')
  }),
  fc
    .record({ name: fc.oneof(latin(70), fc.integer(), fc.constant(null)), instanceLimit: fc.oneof(fc.double(), fc.string(), fc.integer()) })
    .map((o) => Buffer.from(JSON.stringify({ ...o, zzfuzz: true }))),
  fc.integer({ min: 1, max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 5000 }).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.constantFrom('{', '{"name":', '{"name":"x",}', "{'name':'x'}", '{"name":"x"}{"name":"y"}', 'null', 'true', '""', '1e999999', '{"__proto__":{"zzfuzz":1}}', '{"constructor":{"prototype":{}}}').map((s) => Buffer.from(s)),
  bytes(300).map((b) => {
    // An empty body reads as {}, which some routes accept.
    if (b.toString('utf8').trim() === '') return Buffer.concat([b, Buffer.from('\x00')])
    try {
      JSON.parse(b.toString('utf8'))
      return Buffer.concat([b, Buffer.from('\x00')])
    } catch {
      return b
    }
  }),
  fc.string({ maxLength: 40 }).map((s) => Buffer.concat([Buffer.from(`{"name":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(s), Buffer.from('","zzfuzz":1}')])),
)

function line(method: string, target: string, version = 'HTTP/1.1'): string {
  return `${method} ${target} ${version}\r\n`
}

function encode(method: string, target: string, headers: string[], body: Buffer | null, framing: 'cl' | 'none' | 'chunked' = 'cl'): Buffer {
  const hs = [...headers]
  if (body !== null && framing === 'cl') hs.push(`Content-Length: ${body.length}`)
  if (body !== null && framing === 'chunked') hs.push('Transfer-Encoding: chunked')
  const head = Buffer.from(line(method, target) + ['Host: 127.0.0.1', ...hs].map((h) => `${h}\r\n`).join('') + '\r\n', 'latin1')
  if (body === null) return head
  if (framing === 'chunked') return Buffer.concat([head, Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
  return Buffer.concat([head, body])
}

const withName = (route: string, name: string) => route.replace(':i', name)

export function httpCases(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const existingName = fc.constantFrom(...t.existing)
  const anyName = fc.oneof(existingName, unknownName)
  const one = (kind: string, method: string, target: string, raw: Buffer): FuzzCase => ({ kind, pieces: [raw], delayMs: 0, requests: 1, methods: [method], paths: [target] })

  const body = fc
    .tuple(fc.constantFrom(...BODY_ROUTES), anyName, tokenHeader(t), badJson, fc.constantFrom('application/json', 'text/plain', '', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'))
    .map(([route, name, auth, b, type]) => {
      const target = withName(route, name)
      return one('body', 'POST', target, encode('POST', target, [...auth, ...(type === '' ? [] : [`Content-Type: ${type}`])], b))
    })

  const headers = fc
    .tuple(
      fc.constantFrom(...READ_ROUTES),
      existingName,
      tokenHeader(t),
      fc.array(
        fc.oneof(
          fc.tuple(latin(30), latin(200)).map(([k, v]) => `${k}: ${v}`),
          latin(60),
          fc.constant(`X-Big: ${'b'.repeat(60_000)}`),
          fc.constant('If-None-Match: "zz", W/"x", *'),
          fc.constant('Last-Event-ID: zz:-1'),
          fc.constant('Accept-Encoding: gzip, br, zz'),
          fc.constant('Connection: upgrade'),
          fc.constant('Upgrade: websocket'),
          fc.constant('Expect: 100-continue'),
          fc.constant('Content-Length: 0'),
        ),
        { maxLength: 30 },
      ),
      fc.integer({ min: 0, max: 300 }),
    )
    .map(([route, name, auth, extra, many]) => {
      const target = withName(route, name)
      const padding = Array.from({ length: many > 250 ? many : 0 }, (_, i) => `X-H${i}: ${i}`)
      return one('headers', 'GET', target, encode('GET', target, [...auth, ...extra, ...padding], null))
    })

  const method = fc
    .tuple(
      fc.oneof(fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'get', 'Post', 'FOO', 'GET\x00', 'DELETE ', 'M'.repeat(2000)), latin(12)),
      fc.constantFrom(...READ_ROUTES, ...BODY_ROUTES),
      existingName,
      tokenHeader(t),
    )
    .map(([m, route, name, auth]) => {
      const target = withName(route, name)
      return one('method', m, target, encode(m, target, auth, null))
    })

  const path = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...ACTION_ROUTES).chain(([m, route]) => unknownName.map((n) => [m, withName(route, n)] as const)),
        fc.constantFrom(...READ_ROUTES).chain((route) => unknownName.map((n) => ['GET', withName(route, n)] as const)),
        latin(200).map((s) => ['GET', `/${s}`] as const),
        fc.constantFrom('//api//instance/list', '/api/instance/list/', '/api/instance/list/../list', '/API/INSTANCE/LIST', '/api/instance/list%00', '*', '', '/api/instance/list#x', `/${'a/'.repeat(5000)}`).map((p) => ['GET', p] as const),
        fc.tuple(latin(100), latin(100)).map(([a, b]) => ['GET', `/api/instance/list?instanceName=${encodeURIComponent(a)}&token=${encodeURIComponent(b)}&${b}`] as const),
        fc.constantFrom('?instanceName=', '?instanceName=,,, ,', '?instanceName=%', '?instanceName=%E0%A4%A', `?instanceName=${'a,'.repeat(5000)}`, '?&&&=&=', '?token=&token=').map((q) => ['GET', `/api/instance/list${q}`] as const),
      ),
      tokenHeader(t),
    )
    .map(([[m, target], auth]) => one('path', m, target, encode(m, target, auth, m === 'GET' ? null : Buffer.alloc(0))))

  const nonUtf8 = fc
    .tuple(bytes(30), fc.constantFrom('path', 'header', 'query'), tokenHeader(t), fc.constantFrom(...READ_ROUTES), existingName)
    .map(([b, where, auth, route, name]) => {
      const bad = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28]), b])
      const target = withName(route, name)
      const head = (extra: Buffer[]) => Buffer.concat([Buffer.from(`GET ${where === 'path' ? '/zz' : target}`), ...(where === 'path' ? [bad] : []), ...(where === 'query' ? [Buffer.from('?instanceName='), bad] : []), Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\n'), ...extra, Buffer.from('\r\n')])
      const extra = [...auth.map((h) => Buffer.from(`${h}\r\n`)), ...(where === 'header' ? [Buffer.concat([Buffer.from('X-Bad: '), bad, Buffer.from('\r\n')])] : [])]
      return one('non-utf8', 'GET', target, head(extra))
    })

  const chunked = fc
    .tuple(fc.constantFrom(...BODY_ROUTES), unknownName, tokenHeader(t), badJson, fc.constantFrom('split', 'bad-size', 'negative', 'huge', 'extension', 'no-end', 'trailer', 'zero-first'), fc.integer({ min: 1, max: 7 }))
    .map(([route, name, auth, b, how, parts]) => {
      const target = withName(route, name)
      const head = Buffer.from(line('POST', target) + ['Host: 127.0.0.1', ...auth, 'Content-Type: application/json', 'Transfer-Encoding: chunked'].map((h) => `${h}\r\n`).join('') + '\r\n', 'latin1')
      const size = Math.ceil(b.length / parts) || 1
      const chunks: Buffer[] = []
      for (let i = 0; i < b.length; i += size) chunks.push(Buffer.concat([Buffer.from(`${Math.min(size, b.length - i).toString(16)}${how === 'extension' ? ';zz=1' : ''}\r\n`), b.subarray(i, i + size), Buffer.from('\r\n')]))
      const tail = { split: '0\r\n\r\n', 'bad-size': 'zz\r\n{}\r\n0\r\n\r\n', negative: '-5\r\nhello\r\n0\r\n\r\n', huge: 'ffffffffffffffff\r\nx\r\n', extension: '0\r\n\r\n', 'no-end': '', trailer: '0\r\nX-Trailer: zz\r\n\r\n', 'zero-first': '0\r\n\r\n' }[how]
      const body = how === 'zero-first' ? Buffer.concat([Buffer.from(tail), ...chunks]) : Buffer.concat([...chunks, Buffer.from(tail)])
      return one('chunked', 'POST', target, Buffer.concat([head, body]))
    })

  const framing = fc
    .tuple(fc.constantFrom(...BODY_ROUTES), unknownName, tokenHeader(t), badJson, fc.constantFrom('longer', 'shorter', 'cl+te', 'dup', 'negative', 'spaces', 'hex', 'huge', 'none'))
    .map(([route, name, auth, b, how]) => {
      const target = withName(route, name)
      const cl = {
        longer: [`Content-Length: ${b.length + 50}`],
        shorter: [`Content-Length: ${Math.max(0, b.length - 3)}`],
        'cl+te': [`Content-Length: ${b.length}`, 'Transfer-Encoding: chunked'],
        dup: [`Content-Length: ${b.length}`, `Content-Length: ${b.length + 1}`],
        negative: ['Content-Length: -1'],
        spaces: [`Content-Length:  ${b.length} `],
        hex: [`Content-Length: 0x${b.length.toString(16)}`],
        huge: ['Content-Length: 18446744073709551616'],
        none: [],
      }[how]
      return one('framing', 'POST', target, Buffer.concat([encode('POST', target, [...auth, ...cl], null), b]))
    })

  const slow = fc
    .tuple(fc.oneof(body, headers, framing), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 15 }))
    .map(([c, pieces, delayMs]) => {
      const raw = Buffer.concat(c.pieces)
      const size = Math.ceil(raw.length / pieces)
      const out: Buffer[] = []
      for (let i = 0; i < raw.length; i += size) out.push(raw.subarray(i, i + size))
      return { ...c, kind: 'slow', pieces: out, delayMs }
    })

  const pipeline = fc
    .array(fc.oneof({ weight: 3, arbitrary: headers }, { weight: 1, arbitrary: body }, { weight: 1, arbitrary: path }), { minLength: 2, maxLength: 10 })
    .map((cs) => ({ kind: 'pipeline', pieces: [Buffer.concat(cs.flatMap((c) => c.pieces))], delayMs: 0, requests: cs.length, methods: cs.flatMap((c) => c.methods), paths: cs.flatMap((c) => c.paths) }))

  const version = fc
    .tuple(fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/1.1x', 'http/1.1', '', 'HTTP/0.9', 'HTTP/1.1 extra'), fc.boolean(), tokenHeader(t))
    .map(([v, host, auth]) => {
      const raw = Buffer.from(`GET /api/instance/list ${v}`.trimEnd() + '\r\n' + [...(host ? ['Host: 127.0.0.1'] : []), ...auth].map((h) => `${h}\r\n`).join('') + '\r\n', 'latin1')
      return one('version', 'GET', '/api/instance/list', raw)
    })

  const garbage = bytes(2000).map((b) => one('garbage', '', '', b))

  return fc.oneof(
    { weight: 20, arbitrary: body },
    { weight: 12, arbitrary: headers },
    { weight: 8, arbitrary: method },
    { weight: 14, arbitrary: path },
    { weight: 6, arbitrary: nonUtf8 },
    { weight: 8, arbitrary: chunked },
    { weight: 8, arbitrary: framing },
    { weight: 1, arbitrary: slow },
    { weight: 6, arbitrary: pipeline },
    { weight: 3, arbitrary: version },
    { weight: 3, arbitrary: garbage },
  )
}
