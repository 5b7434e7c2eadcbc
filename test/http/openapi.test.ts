/**
 * The API description cannot drift from the code: every route of the route table is exercised
 * against a real hub (simulated WhatsApp), and every real answer, successes and errors, is
 * validated with ajv against the document the hub serves at /openapi.json. A route added without
 * a description, or answering a status or a body its schemas do not describe, fails here.
 * A new route needs no entry in RECIPES when its spec's `example` succeeds on the fixtures below
 * (instances sales, support and spare of the default account, simulated WhatsApp).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { afterAll, describe, expect, it } from 'vitest'
import { openApiPath, operationId } from '../../src/edges/http/openapi.js'
import type { RegisteredRoute } from '../../src/edges/http/route.js'
import { ADMIN, createInstances, startTestHub, type Res } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

// ajv-formats is CommonJS: under NodeNext its default export is the module object.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin

const h = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { whatsapp: {} })
await createInstances(h, ['sales', 'support', 'spare'])
afterAll(() => h.stop())

const routes: readonly RegisteredRoute[] = h.http.router.routes
const doc = (await h.req('GET', '/openapi.json')).json

/** The component schemas under `$defs` of one ajv schema, references rewritten to match. */
function rebased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebased)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', 'doc#/$defs/') : rebased(v)]),
  )
}
const ajv = new Ajv2020({ strict: true, allErrors: true })
addFormats(ajv)
ajv.addSchema({ $id: 'doc', $defs: rebased(doc.components.schemas) as Record<string, object> })
const compiled = new Map<string, ValidateFunction>()

/** Validates one real answer of `route` against the document: its status must be listed, its body must match. */
function check(route: RegisteredRoute, r: Res): void {
  const label = `${route.method} ${route.pattern} → ${r.status} ${r.text.slice(0, 300)}`
  const op = doc.paths[openApiPath(route.pattern)]?.[route.method.toLowerCase()]
  expect(op, `${route.method} ${route.pattern} is not in the document`).toBeDefined()
  const answer = op.responses[String(r.status)]
  expect(answer, `${label}: the document does not list this status`).toBeDefined()
  if (r.status === 304) {
    expect(r.text).toBe('')
    return
  }
  const type = (r.headers.get('content-type') ?? '').split(';')[0]!
  expect(Object.keys(answer.content), label).toContain(type)
  if (type !== 'application/json') return
  const key = `${route.method} ${route.pattern} ${r.status}`
  let validate = compiled.get(key)
  if (validate === undefined) compiled.set(key, (validate = ajv.compile(rebased(answer.content['application/json'].schema) as object)))
  if (!validate(r.json)) throw new Error(`${label}\ndoes not match the document: ${ajv.errorsText(validate.errors)}`)
}

/** What a path parameter names when a route's example does not say. */
const FIXTURES: Record<string, string> = { instance: 'sales', id: '999999' }

const tokenFor = (route: RegisteredRoute): string | null => {
  const who = route.spec.who ?? 'tenant'
  // This hub has no HUB_METRICS_TOKEN: /metrics takes the admin token.
  return who === 'public' ? null : who === 'admin' || who === 'metrics' ? ADMIN : h.token
}

/** The pattern with its parameters filled: the route's example, else the suite's fixtures. */
function path(route: RegisteredRoute, params: Record<string, string> = {}, query?: Record<string, string>): string {
  const filled = route.pattern.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    const value = params[name] ?? route.spec.example?.params?.[name] ?? FIXTURES[name]
    if (value === undefined) throw new Error(`${route.method} ${route.pattern}: give example.params.${name} in its spec`)
    return encodeURIComponent(value)
  })
  const q = query ?? route.spec.example?.query
  return q === undefined ? filled : `${filled}?${new URLSearchParams(q)}`
}

/** The route as its spec's example calls it. */
const call = (route: RegisteredRoute, opts: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; token?: string | null; headers?: Record<string, string> } = {}) =>
  h.req(route.method, path(route, opts.params, opts.query), {
    token: opts.token === undefined ? tokenFor(route) : opts.token,
    body: opts.body ?? route.spec.example?.body,
    headers: opts.headers,
  })

const accountId = async (name: string) => {
  const r = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name } })
  return String(r.json.account.id)
}

/** Gives `name` a live simulated socket, connected (after the scan, the 515 restart and the login). */
async function live(name: string): Promise<void> {
  const r = await h.req('GET', `/api/instance/connect/${name}`)
  if (r.json.status === 'qr') await h.req('POST', `/api/sim/${name}/scan`)
  await until(async () => (await h.req('GET', `/api/instance/list?instanceName=${name}`)).json.instances[0]?.connection.state === 'connected', { what: `${name} connected`, ms: 20000 })
}

/** Routes whose example alone cannot show their success (they destroy, or need state first). */
const RECIPES: Record<string, (route: RegisteredRoute) => Promise<Res[]>> = {
  'DELETE /api/admin/accounts/:id': async (route) => [await call(route, { params: { id: await accountId('doomed') } }), await call(route, { params: { id: '999999' } })],
  'POST /api/admin/accounts/:id/token': async (route) => [await call(route, { params: { id: await accountId('rotated') } })],
  'POST /api/admin/accounts': async (route) => [await call(route), await call(route)],
  'POST /api/instance/new': async (route) => [await call(route), await call(route)],
  'DELETE /api/instance/delete/:instance': async (route) => {
    await createInstances(h, ['doomed'])
    return [await call(route, { params: { instance: 'doomed' } })]
  },
  'GET /api/instance/list': async (route) => {
    const first = await call(route)
    return [first, await call(route, { headers: { 'if-none-match': first.headers.get('etag')! } }), await call(route, { query: { instanceName: 'nobody' } })]
  },
  'GET /api/events/getWebhook/:instance': async (route) => [await call(route), await call(route, { query: { label: 'default' } }), await call(route, { query: { label: 'none' } })],
  'GET /api/instance/connect/:instance': async (route) => [await call(route, { params: { instance: 'support' } }), await call(route, { params: { instance: 'support' }, query: { number: '12' } })],
  'POST /api/instance/reconnect/:instance': async (route) => {
    const before = await call(route, { params: { instance: 'spare' } })
    await h.req('GET', '/api/instance/connect/spare')
    await h.req('POST', '/api/sim/spare/scan')
    return [before, await call(route, { params: { instance: 'spare' } })]
  },
  'POST /api/sim/:instance/scan': async (route) => {
    await h.req('GET', '/api/instance/connect/sales')
    return [await call(route)]
  },
  'POST /api/sim/:instance/close': async (route) => [await call(route, { params: { instance: 'spare' } }), ...(await live('spare'), [await call(route, { params: { instance: 'spare' } })])],
  // A personal account has no push name at pairing, and presence needs one (as in Baileys).
  'POST /api/sim/:instance/online': async (route) => {
    await live('sales')
    const before = await call(route)
    await h.req('POST', '/api/sim/sales/profile', { body: { name: 'Sales' } })
    return [before, await call(route)]
  },
  'POST /api/sim/:instance/profile': async (route) => (await live('sales'), [await call(route)]),
  'DELETE /api/instance/logout/:instance': async (route) => [await call(route, { params: { instance: 'support' } })],
  'GET /api/instance/stream': async (route) => {
    const ac = new AbortController()
    const r = await fetch(`${h.base}${path(route)}`, { headers: { token: h.token }, signal: ac.signal })
    const reader = r.body!.getReader()
    let text = ''
    while (!text.includes('\n\n')) text += Buffer.from((await reader.read()).value!).toString()
    ac.abort()
    expect(text).toMatch(/^retry: 2000\n\n/)
    return [{ status: r.status, headers: r.headers, json: null, text }]
  },
}

describe('the API description', () => {
  it('is OpenAPI 3.1 with one operation per registered route, each with its own operationId', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({ title: 'statushub', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
    const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(([p, ops]) => Object.entries(ops).map(([m, o]) => `${m.toUpperCase()} ${p} ${o.operationId}`))
    expect(operations.sort()).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.pattern)} ${operationId(r.method, r.pattern)}`).sort())
    expect(new Set(operations.map((o) => o.split(' ')[2])).size).toBe(routes.length)
    expect(routes.length).toBeGreaterThanOrEqual(30)
  })

  it('has a description for every registered route', () => {
    const missing = routes.filter((r) => typeof r.spec.description !== 'string' || r.spec.description.trim().length < 20)
    expect(missing.map((r) => `${r.method} ${r.pattern}`)).toEqual([])
    for (const r of routes) expect(doc.paths[openApiPath(r.pattern)][r.method.toLowerCase()].description.startsWith(r.spec.description)).toBe(true)
  })

  it('compiles under ajv strict mode: every schema and every reference is valid', () => {
    for (const id of Object.keys(doc.components.schemas)) expect(() => ajv.getSchema(`doc#/$defs/${id}`)).not.toThrow()
  })

  it('says plainly which settings are stored only', () => {
    const stored = 'Stored and returned for RyzeAPI compatibility; no effect here.'
    expect(doc.info.description).toContain('`ignoreGroupMessages`, `autoReadMessages`, `ignoreStatus` and the chatwoot and s3 blocks are stored and returned for RyzeAPI compatibility; no effect here.')
    const settings = doc.components.schemas.Settings.properties
    for (const f of ['ignoreGroupMessages', 'autoReadMessages', 'ignoreStatus']) expect(settings[f].description).toBe(stored)
    for (const f of ['keepOnlineStatus', 'disableHistorySync', 'autoRejectCalls']) expect(settings[f].description).not.toBe(stored)
    expect(doc.components.schemas.Chatwoot.description).toContain(stored)
    expect(doc.components.schemas.S3.description).toContain(stored)
    const create = doc.components.schemas.PostApiInstanceNewBody.properties
    for (const f of Object.keys(create).filter((k) => k.startsWith('chatwoot') || k.startsWith('s3') || ['ignoreGroupMessages', 'autoReadMessages', 'ignoreStatus'].includes(k))) {
      expect(create[f].description, f).toBe(stored)
    }
    expect(doc.paths['/api/instance/s3/{instance}'].post.description).toContain(stored)
    expect(doc.paths['/api/instance/settings/{instance}'].post.description).toContain(stored)
  })

  it('describes request bodies and queries from the schemas that validate them', () => {
    const body = doc.components.schemas.PostApiInstanceNewBody
    expect(body.additionalProperties).toBe(false)
    expect(body.required).toEqual(['name'])
    expect(body.properties.name.pattern).toBe('^[A-Za-z0-9_.-]{1,64}$')
    const connect = doc.paths['/api/instance/connect/{instance}'].get.parameters
    expect(connect).toEqual([
      expect.objectContaining({ name: 'instance', in: 'path', required: true }),
      expect.objectContaining({ name: 'number', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{6,15}$' } }),
    ])
  })
})

describe('every route answers as the document says', () => {
  it.each(routes.map((r) => [`${r.method} ${r.pattern}`, r] as const))('%s', async (key, route) => {
    const answers = await (RECIPES[key] ?? (async (r: RegisteredRoute) => [await call(r)]))(route)
    for (const a of answers) check(route, a)
    const success = route.spec.status ?? 200
    expect(answers.map((a) => a.status), `${key} never answered ${success}`).toContain(success)

    // The errors every such route shares, validated the same way.
    if ((route.spec.who ?? 'tenant') !== 'public') {
      const anonymous = await call(route, { token: null })
      expect(anonymous.status).toBe(401)
      check(route, anonymous)
      const who = route.spec.who ?? 'tenant'
      const wrong = await call(route, { token: who === 'admin' || who === 'metrics' ? h.token : ADMIN })
      expect(wrong.status).toBe(403)
      check(route, wrong)
    }
    if (route.pattern.includes('/:instance')) {
      const missing = await call(route, { params: { instance: 'nobody' } })
      expect(missing.status).toBe(404)
      check(route, missing)
    }
    if (route.spec.body !== undefined) {
      const refused = await h.req(route.method, path(route, { instance: 'sales', id: '1' }), { token: tokenFor(route), raw: '{"unknownField":1}' })
      expect(refused.status).toBe(400)
      check(route, refused)
    }
  })
})
