import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/app/config.js'
import { isNativeUws } from '../../src/edges/http/load.js'
import { startTestHub, tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({})
    expect([c.port, c.host, c.dataDir, c.rateLimitPerMin, c.createRateLimitPerMin, c.whatsapp, c.adminToken]).toEqual([
      8080, '0.0.0.0', './data', 100, 20, 'baileys', undefined,
    ])
    expect([c.silentAfterMs, c.historyDays]).toEqual([120_000, 7])
  })

  it.each([
    ['HUB_PORT', 'eighty', /HUB_PORT: .*"eighty"/],
    ['HUB_PORT', '70000', /HUB_PORT: /],
    ['HUB_WHATSAPP', 'whatsmeow', /HUB_WHATSAPP: /],
    ['HUB_RATE_LIMIT_PER_MIN', '0', /HUB_RATE_LIMIT_PER_MIN: /],
    ['HUB_ADMIN_TOKEN', 'short', /HUB_ADMIN_TOKEN: must be at least 16 characters/],
    ['HUB_SILENT_AFTER_MS', '999', /HUB_SILENT_AFTER_MS: /],
    ['HUB_HISTORY_DAYS', '6', /HUB_HISTORY_DAYS: /],
  ])('refuses %s=%s with a message naming the variable', (name, value, pattern) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(pattern)
  })

  it('stops `npm start` with exit code 2 and the variable named', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], { env: { ...process.env, HUB_PORT: 'x', HUB_DATA_DIR: tempDir() } })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise((r) => child.on('exit', r))
    expect(code).toBe(2)
    expect(err).toContain('HUB_PORT')
  })
})

describe('uWebSockets.js loading', () => {
  it('recognises the native binary', async () => {
    const uWS = (await import('uWebSockets.js')).default
    expect(isNativeUws(uWS)).toBe(true)
  })

  it('recognises the package\'s JavaScript fallback as not native', () => {
    const require = createRequire(import.meta.url)
    const fallback = require('uWebSockets.js/dist/index.js')
    expect(isNativeUws(fallback)).toBe(false)
  })

  it('refuses to start when only the fallback loads', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      env: { ...process.env, UWS_USE_FALLBACK: '1', HUB_PORT: '0', HUB_DATA_DIR: tempDir(), HUB_LOG_LEVEL: 'silent' },
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise((r) => child.on('exit', r))
    expect(code).toBe(1)
    expect(err).toContain('uWebSockets.js loaded its JavaScript fallback instead of the native binary')
  })
})

describe('npm start', () => {
  it('prints a working account token on first start and shuts down cleanly on SIGTERM', async () => {
    const dir = tempDir()
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], { env: { ...process.env, HUB_PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dir, HUB_LOG_LEVEL: 'info', HUB_ADMIN_TOKEN: '' } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no token printed: ${out}`)), 20_000)
      const check = setInterval(() => {
        // The log line with the port and the printed hint are written separately: wait for both.
        if (/Try it:/.test(out) && /"port":\d+/.test(out)) {
          clearInterval(check)
          clearTimeout(t)
          resolve()
        }
      }, 50)
    })
    const token = /Account "default" token \(shown once\): (\S+)/.exec(out)![1]!
    const port = /"port":(\d+)/.exec(out)![1]
    const r = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token } })
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ success: true, message: '0 Instances found', instances: [] })
    expect(out).toMatch(/Admin token \(shown once; manages accounts\): \S+/)
    child.kill('SIGTERM')
    expect(await new Promise((r) => child.on('exit', r))).toBe(0)
  })

  it('still prints the first start\'s tokens, and exits 1 naming the address, when the port is taken', async () => {
    const blocker = createServer()
    const port = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)))
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
        env: { ...process.env, HUB_PORT: String(port), HUB_HOST: '127.0.0.1', HUB_DATA_DIR: tempDir(), HUB_LOG_LEVEL: 'silent', HUB_ADMIN_TOKEN: '' },
      })
      const { code, out, err } = await exited(child)
      expect(code).toBe(1)
      expect(out).toMatch(/Admin token \(shown once; manages accounts\): \S+/)
      expect(out).toMatch(/Account "default" token \(shown once\): \S+/)
      expect(err).toContain(`cannot listen on 127.0.0.1:${port}`)
    } finally {
      blocker.close()
    }
  })

  it('refuses to serve a port another hub already serves, leaving that hub the only one answering', async () => {
    // A fixed port, as deployments use: on port 0 the kernel never shares, reuse-port or not.
    const free = createServer()
    const port = await new Promise<number>((r) => free.listen(0, '127.0.0.1', () => r((free.address() as { port: number }).port)))
    await new Promise((r) => free.close(r))
    const first = await startTestHub({ HUB_PORT: String(port) })
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      env: { ...process.env, HUB_PORT: String(first.port), HUB_HOST: '127.0.0.1', HUB_DATA_DIR: tempDir(), HUB_LOG_LEVEL: 'silent', HUB_ADMIN_TOKEN: '' },
    })
    try {
      const { code, err } = await exited(child)
      expect(code).toBe(1)
      expect(err).toContain(`cannot listen on 127.0.0.1:${first.port}`)
      const answers = await Promise.all(Array.from({ length: 20 }, () => first.req('GET', '/api/instance/list')))
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200))
    } finally {
      child.kill('SIGKILL')
      await first.stop()
    }
  })

  it('keeps serving after a promise nobody awaits is rejected (as Baileys does on a bad frame)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/fixtures/reject-later.mjs', 'src/app/main.ts'], {
      env: { ...process.env, HUB_PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: tempDir(), HUB_LOG_LEVEL: 'info', HUB_ADMIN_TOKEN: '' },
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    try {
      await until(() => out.includes('unhandled rejection (kept running)'), { what: 'the rejection to be logged', ms: 20_000, detail: () => out })
      const port = Number(/"port":(\d+)/.exec(out)![1])
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
      expect(child.exitCode).toBeNull()
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('flushes pending snapshot writes on SIGTERM: a restart serves the same list', async () => {
    const dir = tempDir()
    // Writes wait up to 10 s, so only the shutdown flush can have stored the new instance and its settings.
    const env = { ...process.env, HUB_PORT: '0', HUB_HOST: '127.0.0.1', HUB_DATA_DIR: dir, HUB_LOG_LEVEL: 'info', HUB_ADMIN_TOKEN: '', HUB_PERSIST_INTERVAL_MS: '10000' }
    const first = await startedHub(env)
    const created = await fetch(`${first.base}/api/instance/new`, { method: 'POST', headers: { token: first.token, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'sales' }) })
    expect(created.status).toBe(201)
    const settings = await fetch(`${first.base}/api/instance/settings/sales`, { method: 'POST', headers: { token: first.token, 'content-type': 'application/json' }, body: JSON.stringify({ keepOnlineStatus: true }) })
    expect(settings.status).toBe(200)
    const before = await (await fetch(`${first.base}/api/instance/list`, { headers: { token: first.token } })).text()
    first.child.kill('SIGTERM')
    expect((await exited(first.child)).code).toBe(0)

    const second = await startedHub(env, first.token)
    const after = await (await fetch(`${second.base}/api/instance/list`, { headers: { token: first.token } })).text()
    second.child.kill('SIGTERM')
    await exited(second.child)
    expect(after).toBe(before)
    expect(JSON.parse(after).instances[0].settings.keepOnlineStatus).toBe(true)
  })
})

async function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; out: string; err: string }> {
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  return { code, out, err }
}

/** Spawns `src/app/main.ts` and waits until it listens; `token` is the account token when none is printed. */
async function startedHub(env: NodeJS.ProcessEnv, token?: string): Promise<{ child: ChildProcessWithoutNullStreams; base: string; token: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], { env })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  await until(() => /"port":(\d+)/.test(out) && (token !== undefined || /Try it:/.test(out)), { ms: 20_000, message: () => `the hub did not start: ${out}` })
  const port = /"port":(\d+)/.exec(out)![1]
  return { child, base: `http://127.0.0.1:${port}`, token: token ?? /Account "default" token \(shown once\): (\S+)/.exec(out)![1]! }
}
