import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/app/cli.js'
import { ADMIN, createInstances, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'

let h: TestHub
beforeAll(async () => {
  h = await startTestHub()
})
afterAll(() => h.stop())

describe('accounts over REST (admin token)', () => {
  it('creates, lists, rotates and deletes an account with its instances', async () => {
    const c = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'acme', instanceLimit: 2 } })
    expect(c.status).toBe(201)
    expect(c.json.message).toBe('Account created')
    expect(c.json.account).toEqual({ id: 2, name: 'acme', instanceLimit: 2 })
    const token: string = c.json.token
    await createInstances(h, ['one', 'two'], token)
    const quota = await h.req('POST', '/api/instance/new', { token, body: { name: 'three' } })
    expect(quota.status).toBe(403)
    expect(quota.json.error.message).toBe('Account instance quota exceeded')

    const list = await h.req('GET', '/api/admin/accounts', { token: ADMIN })
    expect(list.json.accounts.map((a: any) => [a.name, a.instances])).toEqual([['default', 0], ['acme', 2]])

    const rotated = await h.req('POST', '/api/admin/accounts/2/token', { token: ADMIN })
    expect((await h.req('GET', '/api/instance/list', { token })).status).toBe(401)
    expect((await h.req('GET', '/api/instance/list', { token: rotated.json.token })).json.message).toBe('2 Instances found')

    const del = await h.req('DELETE', '/api/admin/accounts/2', { token: ADMIN })
    expect(del.json).toEqual({ success: true, message: 'Account deleted', account: { status: 'deleted' } })
    expect((await h.req('GET', '/api/instance/list', { token: rotated.json.token })).status).toBe(401)
    expect((await h.req('DELETE', '/api/admin/accounts/2', { token: ADMIN })).status).toBe(404)
  })

  it('refuses a duplicate account name with 409', async () => {
    const r = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'default' } })
    expect(r.status).toBe(409)
    expect(r.json.error.message).toBe('Account name already in use')
  })
})

describe('accounts from the command line', () => {
  it('creates, lists, rotates and deletes while no hub runs on the data dir', () => {
    const env = { HUB_DATA_DIR: tempDir() }
    const created = runCli(['account', 'create', 'acme', '--limit', '5'], env)
    expect(created.code).toBe(0)
    expect(created.out).toMatch(/^Admin token \(shown once\): \S+\nAccount "default" token \(shown once\): \S+\nAccount created: id 2, name acme, instance limit 5\nToken \(shown once\): \S+$/)
    const list = runCli(['account', 'list'], env)
    expect(list.out.split('\n').map((l) => l.split('\t').slice(0, 4).join(' '))).toEqual(['1 default limit 100 0 instances', '2 acme limit 5 0 instances'])
    expect(runCli(['account', 'token', '2'], env).out).toMatch(/^New token \(shown once\): \S{32}$/)
    expect(runCli(['account', 'delete', '2'], env)).toEqual({ code: 0, out: 'Account deleted' })
    expect(runCli(['account', 'delete', '2'], env)).toEqual({ code: 1, out: 'error: Account not found' })
  })

  it('takes --limit before the name, and refuses names and limits the REST API refuses', () => {
    const env = { HUB_DATA_DIR: tempDir() }
    expect(runCli(['account', 'create', '--limit', '3', 'beta'], env).out).toContain('Account created: id 2, name beta, instance limit 3')
    const out = (args: string[]) => runCli(['account', 'create', ...args], env).out.split('\n').at(-1)
    expect(out(['bad name!'])).toBe('error: invalid name: must be 1–64 of A-Z a-z 0-9 _ . -')
    expect(out(['gamma', '--limit', 'many'])).toBe('error: --limit must be a whole number from 0 to 1000000')
    expect(out(['gamma', 'delta'])).toBe('error: one name is required: account create <name> [--limit N]')
    expect(out([])).toBe('error: one name is required: account create <name> [--limit N]')
    expect(runCli(['account', 'list'], env).out.split('\n').map((l) => l.split('\t')[1])).toEqual(['default', 'beta'])
  })

  it('refuses to write while a hub holds the data dir', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'account', 'list'], { env: { ...process.env, HUB_DATA_DIR: h.dir }, encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`Another hub (pid ${process.pid}) is using ${h.dir}`)
    expect(r.stdout).toContain('Use the REST admin endpoints')
  })

  it('runs as `npm run hub --` and prints the usage for an unknown command', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'frobnicate'], { env: { ...process.env, HUB_DATA_DIR: tempDir() }, encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stdout).toContain('usage: npm run hub -- <command>')
  })
})
