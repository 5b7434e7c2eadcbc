/**
 * The dashboard end to end: headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core, against a real hub in simulated WhatsApp mode. The page is reached through a
 * relay so a test can cut the network under it. Without Chromium these tests fail, never skip.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildDashboard } from '../../scripts/build-dashboard.mjs'
import { loadConfig } from '../../src/app/config.js'
import { defaultConfig } from '../../src/core/integrations.js'
import type { WhatsAppControl } from '../../src/ports/whatsapp.js'
import { startHub, type RunningHub } from '../../src/app/compose.js'
import { relay } from '../client/helpers.js'
import { tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const NAMES = ['sales', 'support', 'billing', 'ops', 'marketing', 'jakarta', 'lisbon', 'recife', 'austin', 'warsaw', 'osaka', 'nairobi']
const ARTIFACTS = join(import.meta.dirname, '..', '..', '.artifacts')

let running: RunningHub
let wa: WhatsAppControl
let token: string
let front: Awaited<ReturnType<typeof relay>>
let base: string
let browser: Browser
/** Starts the hub on the suite's data dir (again, for the crash test). */
let startSuiteHub: () => Promise<RunningHub>
let suiteDir: string

/** REST straight to the hub (not through the page). */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`http://127.0.0.1:${running.port}${path}`, {
    method,
    headers: { token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: r.status, json: await r.json() }
}

const accountId = () => running.hub.accounts()[0]!.id
const live = (name: string) => running.hub.lookup(accountId(), name)!

function instance(name: string) {
  const i = live(name)
  return { id: i.id, name, settings: i.config.settings, proxy: i.config.proxy }
}

/** Console errors of every page (a CSP violation shows up here), checked after each test. */
let consoleErrors: string[] = []
/** Console errors the running test provokes on purpose. */
let expectedConsole: RegExp | null = null

async function signIn(t = token, opts: { clock?: boolean; hash?: string } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('dialog', (d) => void d.accept())
  page.on('console', (m) => {
    // The failed sign-in and action requests are expected; everything else is a defect.
    if (m.type() !== 'error' || /status of (400|401|404)/.test(m.text()) || expectedConsole?.test(m.text())) return
    consoleErrors.push(m.text())
  })
  page.on('pageerror', (err) => consoleErrors.push(String(err)))
  if (opts.clock) await page.clock.install()
  await page.goto(`${base}/${opts.hash ?? ''}`)
  await page.fill('#token', t)
  await page.press('#token', 'Enter')
  return page
}

const card = (page: Page, name: string) => page.locator(`.card[data-name="${name}"]`)

/** Opens the drawer of `name` from its card, where the instance's actions are. */
async function drawerOf(page: Page, name: string) {
  await card(page, name).getByRole('button', { name: `Details for ${name}` }).click()
  const drawer = page.locator('#drawer')
  await expect.poll(() => drawer.getAttribute('data-name')).toBe(name)
  return drawer
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium): the dashboard tests never skip.`)
  }
  const dashboardDir = join(tempDir(), 'dashboard')
  await buildDashboard(dashboardDir)
  const cfg = loadConfig({ HUB_HOST: '127.0.0.1', HUB_PORT: '0', HUB_DATA_DIR: tempDir(), HUB_LOG_LEVEL: 'silent', HUB_WHATSAPP: 'simulated', HUB_RATE_LIMIT_PER_MIN: '600' })
  const log = pino({ level: 'silent' })
  suiteDir = cfg.dataDir
  startSuiteHub = () => startHub(cfg, { log, whatsapp: {}, dashboardDir })
  running = await startSuiteHub()
  wa = running.wa!
  token = running.first.defaultAccountToken!
  for (const name of NAMES) running.hub.createInstance(accountId(), name, defaultConfig())
  for (const name of NAMES) {
    await wa.connect(instance(name), { timeoutMs: 5000 })
    await wa.simulator!.scan(instance(name).id)
  }
  await until(() => NAMES.every((n) => live(n).status.state === 'connected'), { ms: 10_000, message: () => 'the simulated instances did not all connect' })
  front = await relay()
  front.target(running.port)
  base = `http://127.0.0.1:${front.port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await front?.close()
  await running?.stop()
})

describe('dashboard', () => {
  afterEach(() => {
    const errors = consoleErrors
    consoleErrors = []
    expectedConsole = null
    expect(errors).toEqual([])
  })

  it('shows the API error word for word for a wrong token and keeps the token out of the URL', async () => {
    const page = await signIn('not-a-real-token')
    await expect.poll(() => page.textContent('#login-error')).toBe('Invalid token')
    expect(page.url()).toBe(`${base}/`)
    expect(await page.isVisible('#board')).toBe(false)
    await page.close()
  })

  it('signs in, keeps the token in sessionStorage only, and shows every instance with its fields and counters', async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBe(NAMES.length)
    expect(page.url()).toBe(`${base}/`)
    expect(await page.evaluate(() => sessionStorage.getItem('statushub.token'))).toBe(token)

    const list = (await call('GET', '/api/instance/list?instanceName=sales')).json.instances[0]
    const sales = card(page, 'sales')
    expect(await sales.getAttribute('data-state')).toBe('connected')
    expect(await sales.locator('.badge').textContent()).toBe('connected')
    expect(await sales.locator('.display').textContent()).toBe('Online')
    expect(await sales.locator('.presence').textContent()).toBe(list.connection.presenceStatus)
    expect(await sales.locator('.profile').textContent()).toContain(`+${list.connection.numberJid.split('@')[0].split(':')[0]}`)
    expect(await sales.locator('.since').textContent()).toMatch(/^for \d+s$/)
    expect(await sales.locator('.changed').textContent()).toMatch(/^changed \d+s ago$/)
    expect(await page.textContent('[data-count="connected"]')).toBe(String(NAMES.length))
    expect(await page.textContent('[data-count="loggedout"]')).toBe('0')

    await page.reload()
    await expect.poll(() => page.locator('.card').count()).toBe(NAMES.length)
    await page.close()
  })

  it("changes a card's state and reason within a second of a simulated close, without reloading", async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBe(NAMES.length)
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; marker: number }
      w.marker = 42
      w.seen = []
      const el = document.querySelector('.card[data-name="ops"]')!
      new MutationObserver(() => {
        w.seen.push(`${el.getAttribute('data-state')}|${el.querySelector('.reason')!.textContent}|${el.querySelector('.retry')!.textContent}`)
      }).observe(el, { subtree: true, attributes: true, childList: true, characterData: true })
    })
    const closed = await call('POST', '/api/sim/ops/close', { code: 428, message: 'Connection Terminated' })
    expect(closed.status).toBe(200)
    await page.waitForFunction(
      () => (window as unknown as { seen: string[] }).seen.some((s) => s.startsWith('connecting|428 connectionClosed: Connection Terminated|')),
      undefined,
      { timeout: 1000, polling: 20 },
    )
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen)
    expect(seen.some((s) => /^connecting\|428 connectionClosed: Connection Terminated\|(retry in \ds|retrying…)$/.test(s))).toBe(true)
    await expect.poll(() => card(page, 'ops').locator('.timeline').textContent()).toContain('Reconnecting (connection closed), attempt 1')
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42)
    // The simulated server lets the retry through: the card comes back on its own.
    await expect.poll(() => card(page, 'ops').getAttribute('data-state'), { timeout: 10_000 }).toBe('connected')
    await page.close()
  })

  it('creates an instance, shows its QR on connect, and shows it connected after a simulated scan', async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBe(NAMES.length)
    await page.fill('#new-name', 'fresh')
    await page.press('#new-name', 'Enter')
    await expect.poll(() => page.textContent('#notice .msg')).toMatch(/^Instance created\. Instance token \(shown once\): \S+$/)
    const fresh = card(page, 'fresh')
    await expect.poll(() => fresh.getAttribute('data-state')).toBe('disconnected')

    // Keyboard: the drawer's buttons are real buttons, reachable and pressed with Enter.
    await fresh.getByRole('button', { name: 'Details for fresh' }).press('Enter')
    const drawer = page.locator('#drawer')
    await expect.poll(() => drawer.getAttribute('data-name')).toBe('fresh')
    await drawer.getByRole('button', { name: 'Connect fresh', exact: true }).focus()
    await page.keyboard.press('Enter')
    const qr = drawer.locator('img.qr')
    await expect.poll(() => qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/)
    expect(await qr.isVisible()).toBe(true)
    await expect.poll(() => fresh.getAttribute('data-state')).toBe('connecting')
    expect(await fresh.locator('.display').textContent()).toBe('Waiting for QR scan')

    await drawer.getByRole('button', { name: 'Simulate scan fresh' }).click()
    await expect.poll(() => fresh.getAttribute('data-state'), { timeout: 10_000 }).toBe('connected')
    expect(await fresh.locator('.badge').textContent()).toBe('connected')
    expect(await drawer.locator('.panel').count()).toBe(0)
    // Connected: linking no longer applies, so the drawer stops offering it.
    expect(await drawer.getByRole('button', { name: 'Connect fresh', exact: true }).isVisible()).toBe(false)
    await page.close()
  })

  it('asks for the QR again every 15 s while the instance waits for a scan', async () => {
    running.hub.createInstance(accountId(), 'slowscan', defaultConfig())
    const page = await signIn(token, { clock: true })
    const connects: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/api/instance/connect/slowscan')) connects.push(r.url())
    })
    const c = await drawerOf(page, 'slowscan')
    await c.getByRole('button', { name: 'Connect slowscan', exact: true }).click()
    await expect.poll(() => c.locator('img.qr').getAttribute('src')).toMatch(/^data:image\/png;base64,/)
    expect(connects).toHaveLength(1)
    await page.clock.fastForward(14_000)
    expect(connects).toHaveLength(1)
    await page.clock.fastForward(1_500)
    await expect.poll(() => connects.length).toBe(2)
    await c.getByRole('button', { name: 'Close', exact: true }).click()
    await page.clock.fastForward(31_000)
    expect(connects).toHaveLength(2)
    await page.close()
  })

  it('shows a pairing code for a typed number', async () => {
    running.hub.createInstance(accountId(), 'bycode', defaultConfig())
    const page = await signIn()
    const c = await drawerOf(page, 'bycode')
    await c.getByRole('button', { name: 'Connect bycode', exact: true }).click()
    await c.getByLabel('Or pair by phone number').fill('5511999990000')
    await c.getByRole('button', { name: 'Get pairing code' }).click()
    await expect.poll(() => c.locator('.pairing-code').textContent()).toMatch(/^[A-Z0-9]{8}$/)
    expect(await c.locator('img.qr').isVisible()).toBe(false)
    await page.close()
  })

  it('shows an action error exactly as the API words it', async () => {
    running.hub.createInstance(accountId(), 'unpaired', defaultConfig())
    const page = await signIn()
    await (await drawerOf(page, 'unpaired')).getByRole('button', { name: 'Reconnect unpaired' }).click()
    await expect.poll(() => page.textContent('#notice .msg')).toBe('Instance has no saved session — call /connect first')
    expect(await page.getAttribute('#notice', 'role')).toBe('alert')
    await page.close()
  })

  it('reconnects a dropped instance and logs it out from its drawer', async () => {
    running.hub.createInstance(accountId(), 'roamer', defaultConfig())
    await wa.connect(instance('roamer'), { timeoutMs: 5000 })
    await wa.simulator!.scan(instance('roamer').id)
    const page = await signIn()
    await expect.poll(() => card(page, 'roamer').getAttribute('data-state')).toBe('connected')
    // 403 is not retried: the card stays disconnected until someone reconnects it.
    await wa.simulator!.close(instance('roamer').id, 403, 'Forbidden')
    await expect.poll(() => card(page, 'roamer').getAttribute('data-state')).toBe('disconnected')
    const drawer = await drawerOf(page, 'roamer')
    await drawer.getByRole('button', { name: 'Reconnect roamer' }).click()
    await expect.poll(() => card(page, 'roamer').getAttribute('data-state')).toBe('connected')
    expect(await page.textContent('#notice .msg')).toBe('Reconnect initiated')
    // Connected: reconnecting no longer applies.
    expect(await drawer.getByRole('button', { name: 'Reconnect roamer' }).isVisible()).toBe(false)

    await drawer.getByRole('button', { name: 'Log out roamer' }).click()
    await expect.poll(() => card(page, 'roamer').getAttribute('data-state')).toBe('loggedout')
    expect(await card(page, 'roamer').locator('.display').textContent()).toBe('Logged out')
    await expect.poll(() => page.textContent('#notice .msg')).toBe('Instance logged out')
    await page.close()
  })

  it('shows a profile picture and a new profile name as soon as they change', async () => {
    const page = await signIn()
    await expect.poll(() => card(page, 'warsaw').getAttribute('data-state')).toBe('connected')
    // A data: URL: the page has no network, and the CSP allows data: images.
    const picture = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
    await wa.simulator!.profile(instance('warsaw').id, { name: 'Warsaw Desk', pictureUrl: picture })
    await expect.poll(() => card(page, 'warsaw').locator('.avatar img').getAttribute('src')).toBe(picture)
    await expect.poll(() => card(page, 'warsaw').locator('.profile').textContent()).toMatch(/^Warsaw Desk · \+\d+$/)
    await page.close()
  })

  it('deletes an instance after confirmation and removes its card', async () => {
    running.hub.createInstance(accountId(), 'doomed', defaultConfig())
    const page = await signIn()
    await expect.poll(() => card(page, 'doomed').count()).toBe(1)
    await (await drawerOf(page, 'doomed')).getByRole('button', { name: 'Delete doomed' }).click()
    await expect.poll(() => card(page, 'doomed').count()).toBe(0)
    // Its drawer closes with it, and the URL forgets it.
    expect(await page.locator('#drawer').isVisible()).toBe(false)
    expect(page.url()).toBe(`${base}/`)
    expect(await page.textContent('#notice .msg')).toBe('Instance deleted')
    expect((await call('GET', '/api/instance/list?instanceName=doomed')).status).toBe(404)
    await page.close()
  })

  it('leaves nothing of a signed-out session listening: one Details click after signing in again asks for one history', async () => {
    const page = await signIn()
    await expect.poll(() => card(page, 'sales').count()).toBe(1)
    await page.click('#signout')
    await expect.poll(() => page.isVisible('#login')).toBe(true)
    await page.fill('#token', token)
    await page.press('#token', 'Enter')
    const asked: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/api/instance/history/')) asked.push(new URL(r.url()).pathname)
    })
    await drawerOf(page, 'sales')
    // Whichever answer the hub gives (its history, or 404 while it has no such route), one answer.
    await expect.poll(() => page.getAttribute('#drawer .history', 'data-source')).not.toBe('loading')
    expect(asked).toEqual(['/api/instance/history/sales'])
    expect(await page.locator('#drawer').count()).toBe(1)
    await page.close()
  })

  it('shows a banner while the stream reconnects, then says that the resume recovered', async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThanOrEqual(NAMES.length)
    // Chrome logs each retry refused while the relay is cut.
    expectedConsole = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\?token=[^']+' failed: /
    front.target(null)
    front.drop()
    await expect.poll(() => page.textContent('#banner')).toMatch(/^Stream lost \(connection lost\)\. Reconnecting in \d+s, attempt \d+…$/)
    expect(await page.getAttribute('#banner', 'data-kind')).toBe('warn')
    // A drop while the page is cut off reaches it through the resume, transition by transition.
    await wa.simulator!.close(instance('osaka').id, 408, 'Connection Terminated')
    front.target(running.port)
    await expect.poll(() => page.textContent('#banner'), { timeout: 15_000 }).toBe(
      'Reconnected: resumed from the last position, no change missed (recovered).',
    )
    expect(await page.getAttribute('#banner', 'data-recovered')).toBe('true')
    await expect.poll(() => card(page, 'osaka').locator('.timeline').textContent()).toContain('Reconnecting (connection lost), attempt 1')
    await page.close()
  })

  it('collapses the grid to one column in a narrow window', async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThanOrEqual(NAMES.length)
    await page.setViewportSize({ width: 360, height: 800 })
    // One column: the grid renders fewer cards, every one at the same x.
    await expect.poll(() => page.locator('.card').evaluateAll((els) => new Set(els.map((e) => Math.round(e.getBoundingClientRect().x))).size)).toBe(1)
    expect(await page.locator('.card').count()).toBeGreaterThanOrEqual(2)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(overflow).toBe(0)
    await page.close()
  })

  it('renders a dozen flapping instances (screenshot in .artifacts/)', async () => {
    const page = await signIn()
    await page.setViewportSize({ width: 1440, height: 1000 })
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThanOrEqual(NAMES.length)
    // Drops that retry (428, 408, 500), a slow one (503), a conflict (440) and an unlink (401),
    // plus presence flips: what a fleet looks like on a bad day.
    const codes = [428, 503, 428, 440, 408, 500, 401, 428]
    const sim = wa.simulator!
    const connectedNow = () => NAMES.filter((n) => live(n).status.state === 'connected')
    for (let i = 0; i < 30; i++) {
      const up = connectedNow()
      if (up.length === 0) break
      const name = up[(i * 7) % up.length]!
      if (i % 3 === 0) await sim.online(instance(name).id, i % 2 === 0)
      else await sim.close(instance(name).id, codes[i % codes.length]!, 'Connection Terminated')
      await new Promise((r) => setTimeout(r, 50))
    }
    // The page has caught up once every card shows the state the hub holds.
    await expect
      .poll(async () => {
        const shown = await page.locator('.card').evaluateAll((els) => els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-state')]))
        return shown.filter(([name]) => NAMES.includes(name!)).every(([name, state]) => state === live(name!).status.state)
      })
      .toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    const file = join(ARTIFACTS, 'dashboard-flapping.png')
    await page.screenshot({ path: file, fullPage: true })
    expect(statSync(file).size).toBeGreaterThan(20_000)
    const counts = await page.locator('[data-count]').allTextContents()
    const total = running.hub.accounts()[0]!.ids.length
    expect(counts.map((c) => Number(c.replace(/,/g, ''))).reduce((a, b) => a + b, 0)).toBe(total)
    expect(await page.textContent('#shown')).toBe(`${total} instances`)
    await page.close()
  })

  it('renders 1,000 instances (a screenful in the DOM) and folds a burst of 5,000 changes into per-frame batches of the changed cards', async () => {
    const { account, token: bigToken } = running.hub.createAccount('big', 1000)
    const ids: number[] = []
    for (let i = 0; i < 1000; i++) ids.push(running.hub.createInstance(account.id, `n${String(i).padStart(4, '0')}`, defaultConfig()).instance.id)
    // Sorted by name, so that the burst moves no card in the order.
    const page = await signIn(bigToken, { hash: '#sort=name' })
    await expect.poll(() => page.textContent('#shown'), { timeout: 10_000 }).toBe('1,000 instances')
    const rendered = await page.locator('.card').count()
    expect(rendered).toBeGreaterThan(0)
    expect(rendered).toBeLessThanOrEqual(40)
    // Tag every card node: a full re-render would replace them and lose the tag.
    await page.locator('.card').evaluateAll((els) => els.forEach((e) => ((e as HTMLElement & { tagged?: boolean }).tagged = true)))
    const rendersBefore = Number(await page.getAttribute('#instances', 'data-renders'))

    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) {
        running.hub.updateStatus(ids[i]!, { state: round % 2 ? 'connected' : 'connecting', displayStatus: `round ${round}` })
      }
    }
    await expect.poll(() => page.textContent('[data-count="connecting"]'), { timeout: 15_000 }).toBe('1,000')
    const last = `n${String(rendered - 1).padStart(4, '0')}`
    await expect.poll(() => page.locator(`.card[data-name="${last}"] .display`).textContent(), { timeout: 15_000 }).toBe('round 4')

    const batches = Number(await page.getAttribute('#instances', 'data-renders')) - rendersBefore
    // 5,000 diffs arrive in a handful of WebSocket messages; one batch per animation frame, never one per diff.
    expect(batches).toBeGreaterThan(0)
    expect(batches).toBeLessThan(500)
    const tagged = await page.locator('.card').evaluateAll((els) => els.filter((e) => (e as HTMLElement & { tagged?: boolean }).tagged).length)
    expect(tagged).toBe(rendered)
    expect(await page.locator('.card').count()).toBe(rendered)
    await page.close()
  }, 30_000)

  // Last: it replaces the suite's hub.
  it('says the state was reloaded (not recovered) when the hub comes back from a crash with a new epoch', async () => {
    const page = await signIn()
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThanOrEqual(NAMES.length)
    expectedConsole = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\?token=[^']+' failed: /
    front.target(null)
    front.drop()
    await expect.poll(() => page.textContent('#banner')).toMatch(/^Stream lost/)
    const epoch = running.hub.epoch
    await running.stop()
    // What a crash leaves: no clean-shutdown mark, so the hub cannot prove continuity.
    const db = new Database(join(suiteDir, 'statushub.db'))
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'clean_shutdown'").run()
    db.close()
    running = await startSuiteHub()
    wa = running.wa!
    expect(running.hub.epoch).not.toBe(epoch)
    front.target(running.port)
    await expect.poll(() => page.textContent('#banner'), { timeout: 15_000 }).toBe(
      'Reconnected: the missed changes could not be replayed, so the full state was reloaded (not recovered).',
    )
    expect(await page.getAttribute('#banner', 'data-recovered')).toBe('false')
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThanOrEqual(NAMES.length)
    await page.close()
  })
})

