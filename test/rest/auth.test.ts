import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, createInstances, startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
let a: { account: string; sales: string; support: string }
let b: { account: string; other: string }
let bApiName: string

beforeAll(async () => {
  h = await startTestHub()
  const acme = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'acme', instanceLimit: 10 } })
  const beta = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'beta', instanceLimit: 10 } })
  const ta = await createInstances(h, ['sales', 'support'], acme.json.token)
  const tb = await createInstances(h, ['other', 'sales'], beta.json.token)
  a = { account: acme.json.token, sales: ta.sales!, support: ta.support! }
  b = { account: beta.json.token, other: tb.other! }
  bApiName = (await h.req('GET', '/api/instance/list?instanceName=other', { token: b.account })).json.instances[0].apiInstanceName
})
afterAll(() => h.stop())

/** Every endpoint that takes :instance, with a harmless body where it needs one. */
const perInstance: [string, string, unknown?][] = [
  ['POST', '/api/instance/settings/%s', { keepOnlineStatus: false }],
  ['GET', '/api/instance/getSettings/%s'],
  ['POST', '/api/instance/proxy/%s', { enabled: false }],
  ['GET', '/api/instance/getProxy/%s'],
  ['POST', '/api/instance/s3/%s', { enabled: false }],
  ['GET', '/api/instance/getS3/%s'],
  ['POST', '/api/events/webhook/%s', { enabled: false }],
  ['GET', '/api/events/getWebhook/%s'],
  ['POST', '/api/events/websocket/%s', { enabled: false }],
  ['GET', '/api/events/getWebsocket/%s'],
]

describe('account isolation', () => {
  it.each(perInstance)('%s %s: account A gets 404 for account B\'s names and apiInstanceNames', async (method, path, body) => {
    for (const ref of ['other', bApiName]) {
      const r = await h.req(method, path.replace('%s', ref), { token: a.account, body })
      expect(r.status).toBe(404)
      expect(r.json).toEqual({ success: false, error: { message: 'Instance not found' } })
    }
  })

  it.each(perInstance)('%s %s: a TokenInstance gets 403 on a sibling and 404 on another account', async (method, path, body) => {
    const sibling = await h.req(method, path.replace('%s', 'support'), { token: a.sales, body })
    expect(sibling.status).toBe(403)
    expect(sibling.json.error.message).toBe('Token does not have access to this instance')
    const foreign = await h.req(method, path.replace('%s', bApiName), { token: a.sales, body })
    expect(foreign.status).toBe(404)
  })

  it('a same-named instance in account B is not account A\'s "sales"', async () => {
    const r = await h.req('POST', '/api/instance/settings/sales', { token: a.account, body: { keepOnlineStatus: true } })
    expect(r.status).toBe(200)
    const inB = await h.req('GET', '/api/instance/getSettings/sales', { token: b.account })
    expect(inB.json.settings.keepOnlineStatus).toBe(false)
  })

  it('lists never show another account\'s instances, whatever the filter', async () => {
    const r = await h.req('GET', `/api/instance/list?instanceName=other,${bApiName},sales`, { token: a.account })
    expect(r.json.instances.map((i: any) => i.name)).toEqual(['sales'])
    expect((await h.req('GET', `/api/instance/list?instanceName=${bApiName}`, { token: a.account })).status).toBe(404)
    expect((await h.req('GET', `/api/v1/instance/list?instanceName=other`, { token: a.account })).status).toBe(404)
  })

  it('delete with account A\'s token cannot remove account B\'s instance', async () => {
    const r = await h.req('DELETE', `/api/instance/delete/${bApiName}`, { token: a.account })
    expect(r.status).toBe(404)
    expect((await h.req('GET', '/api/instance/list?instanceName=other', { token: b.account })).status).toBe(200)
  })

  it('delete and create refuse a TokenInstance with 403', async () => {
    expect((await h.req('DELETE', '/api/instance/delete/sales', { token: a.sales })).status).toBe(403)
    const c = await h.req('POST', '/api/instance/new', { token: a.sales, body: { name: 'x' } })
    expect(c.status).toBe(403)
  })

  it('account tokens cannot use admin endpoints, and the admin token cannot read lists', async () => {
    const r = await h.req('GET', '/api/admin/accounts', { token: a.account })
    expect(r.status).toBe(403)
    expect(r.json.error.message).toBe('Admin token required')
    expect((await h.req('GET', '/api/instance/list', { token: ADMIN })).status).toBe(403)
  })

  it('rotating an instance token invalidates the old one at once, even one that was just used', async () => {
    expect((await h.req('GET', '/api/instance/list', { token: a.support })).status).toBe(200)
    const r = await h.req('POST', '/api/instance/token/support', { token: a.account })
    expect(r.status).toBe(200)
    expect((await h.req('GET', '/api/instance/list', { token: a.support })).status).toBe(401)
    const fresh = await h.req('GET', '/api/instance/list', { token: r.json.instance.token })
    expect(fresh.json.instances.map((i: any) => i.name)).toEqual(['support'])
  })

  it('token rotation: 404 across accounts, 403 for a TokenInstance on a sibling', async () => {
    const foreign = await h.req('POST', `/api/instance/token/${bApiName}`, { token: a.account })
    expect([foreign.status, foreign.json.error.message]).toEqual([404, 'Instance not found'])
    const sibling = await h.req('POST', '/api/instance/token/support', { token: a.sales })
    expect([sibling.status, sibling.json.error.message]).toEqual([403, 'Token does not have access to this instance'])
  })

  it('instance tokens cannot use admin endpoints', async () => {
    for (const [method, path] of [['GET', '/api/admin/accounts'], ['POST', '/api/admin/accounts/1/token'], ['DELETE', '/api/admin/accounts/1']]) {
      const r = await h.req(method!, path!, { token: a.sales, body: method === 'POST' ? {} : undefined })
      expect([r.status, r.json.error.message]).toEqual([403, 'Admin token required'])
    }
  })

  it('refuses a rotated account token at once, even one that was just used', async () => {
    const acct = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'gamma', instanceLimit: 1 } })
    const old = acct.json.token
    expect((await h.req('GET', '/api/instance/list', { token: old })).status).toBe(200)
    const rotated = await h.req('POST', `/api/admin/accounts/${acct.json.account.id}/token`, { token: ADMIN })
    expect(rotated.status).toBe(200)
    const r = await h.req('GET', '/api/instance/list', { token: old })
    expect([r.status, r.json.error.message]).toEqual([401, 'Invalid token'])
    expect((await h.req('GET', '/api/instance/list', { token: rotated.json.token })).status).toBe(200)
    expect((await h.req('DELETE', `/api/admin/accounts/${acct.json.account.id}`, { token: ADMIN })).status).toBe(200)
    expect((await h.req('GET', '/api/instance/list', { token: rotated.json.token })).status).toBe(401)
  })

  it('answers 401 with the literal messages for a missing and an unknown token', async () => {
    const missing = await h.req('GET', '/api/instance/list', { token: null })
    expect(missing.status).toBe(401)
    expect(missing.json.error.message).toBe('Missing token in header, Authorization header, or query parameter')
    const unknown = await h.req('GET', '/api/instance/list', { token: 'not-a-token' })
    expect(unknown.status).toBe(401)
    expect(unknown.json.error.message).toBe('Invalid token')
  })

  it('stores tokens only as hashes', async () => {
    const { readFileSync } = await import('node:fs')
    h.hub.flush()
    const db = readFileSync(`${h.dir}/statushub.db`)
    const wal = (() => {
      try {
        return readFileSync(`${h.dir}/statushub.db-wal`)
      } catch {
        return Buffer.alloc(0)
      }
    })()
    for (const t of [a.account, a.sales, b.account, ADMIN]) {
      expect(db.includes(t)).toBe(false)
      expect(wal.includes(t)).toBe(false)
    }
  })
})

describe('custom instance tokens', () => {
  const refused = { success: false, error: { message: 'Invalid field "token": choose another token of 32–128 printable characters' } }

  it('gives a token in use by anyone the same answer as a malformed one, so creation reveals no token', async () => {
    const tooShort = await h.req('POST', '/api/instance/new', { token: a.account, body: { name: 'c1', token: 'x'.repeat(31) } })
    const own = await h.req('POST', '/api/instance/new', { token: a.account, body: { name: 'c2', token: a.account } })
    const othersAccount = await h.req('POST', '/api/instance/new', { token: a.account, body: { name: 'c3', token: b.account } })
    const othersInstance = await h.req('POST', '/api/instance/new', { token: a.account, body: { name: 'c4', token: b.other } })
    expect([tooShort, own, othersAccount, othersInstance].map((r) => [r.status, r.json])).toEqual([
      [400, refused],
      [400, refused],
      [400, refused],
      [400, refused],
    ])
    const fine = await h.req('POST', '/api/instance/new', { token: a.account, body: { name: 'c5', token: 'my-own-token-of-thirty-two-chars!' } })
    expect(fine.status).toBe(201)
    expect(fine.json.instance.token).toBe('my-own-token-of-thirty-two-chars!')
  })

  it('gives a custom token equal to an admin token of 32+ characters the same 400 as a malformed one', async () => {
    // This hub's admin token is long enough to be a custom token, so only the collision can refuse it.
    const admin = 'an-admin-token-of-forty-characters-00000'
    expect(admin).toHaveLength(40)
    const g = await startTestHub({ HUB_ADMIN_TOKEN: admin })
    try {
      const account = await g.req('POST', '/api/admin/accounts', { token: admin, body: { name: 'acme', instanceLimit: 10 } })
      const token = account.json.token as string
      const collides = await g.req('POST', '/api/instance/new', { token, body: { name: 'c1', token: admin } })
      const malformed = await g.req('POST', '/api/instance/new', { token, body: { name: 'c2', token: 'x'.repeat(31) } })
      expect([collides.status, collides.json]).toEqual([400, refused])
      expect([malformed.status, malformed.json]).toEqual([collides.status, collides.json])
      // The same length, not in use: accepted.
      const fine = await g.req('POST', '/api/instance/new', { token, body: { name: 'c3', token: 'a-custom-token-of-forty-characters-00000' } })
      expect([fine.status, fine.json.instance.token]).toEqual([201, 'a-custom-token-of-forty-characters-00000'])
      expect((await g.req('GET', '/api/instance/list', { token: admin })).status).toBe(403)
    } finally {
      await g.stop()
    }
  })

  it('counts custom-token attempts against the per-address limit of unauthenticated requests', async () => {
    const g = await startTestHub({ HUB_UNAUTH_RATE_LIMIT_PER_MIN: '3' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) statuses.push((await g.req('POST', '/api/instance/new', { body: { name: `g${i}`, token: ADMIN } })).status)
      expect(statuses).toEqual([400, 400, 400, 429])
      // A create without a custom token is not a guess.
      expect((await g.req('POST', '/api/instance/new', { body: { name: 'plain' } })).status).toBe(201)
    } finally {
      await g.stop()
    }
  })
})
