/**
 * The dashboard with 10,003 instances (the fleet of fleet.ts plus three the simulator pairs and
 * flaps), end to end in Debian's Chromium driven by playwright-core: search, the state and reason
 * chips, the sorts, the view in the URL, the virtualised table and grid, the drawer's timeline,
 * signals (synced, close detail), webhook deliveries (against a real receiver on 127.0.0.1) and
 * actions, the admin token's cluster panel, the keyboard, and an axe-core audit. Every test leaves
 * a screenshot in .artifacts/.
 * Assertions are structural (what the DOM holds), never timings. Without Chromium or axe-core
 * these tests fail, never skip.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import pino from 'pino'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildDashboard } from '../../scripts/build-dashboard.mjs'
import { startHub, type RunningHub } from '../../src/app/compose.js'
import { loadConfig } from '../../src/app/config.js'
import { defaultConfig } from '../../src/core/integrations.js'
import { DAY_MS } from '../../src/dashboard/day.js'
import { duration, percentText } from '../../src/dashboard/format.js'
import type { WhatsAppControl } from '../../src/ports/whatsapp.js'
import { ADMIN, tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'
import { byName, countOf, createFleet, FLAPPERS, FLEET, MEMBERS, type Member } from './fleet.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const ARTIFACTS = join(import.meta.dirname, '..', '..', '.artifacts')
const TOTAL = FLEET + FLAPPERS.length
const TOTAL_TEXT = `${TOTAL.toLocaleString('en-US')} instances`
/** The most rows the table may keep in the DOM: a screenful and its overscan, never the list. */
const MAX_ROWS = 100

/** axe-core, a devDependency: `npm install` brings it, and the audit never skips. */
function axeSource(): string {
  return readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
}

let running: RunningHub
let wa: WhatsAppControl
let token: string
let base: string
let browser: Browser
let axe: string
let account: ReturnType<typeof createFleet>['account']

let consoleErrors: string[] = []
/** A failed request the running test provokes on purpose: its status and its URL. */
let expectedConsole: { status: number; url: RegExp } | null = null

/** The webhook receiver on 127.0.0.1: answers `receiver.status` to every POST. */
let receiver: Server
const hook = { status: 500, received: 0 }
/** The fleet member whose webhook points at the receiver. */
const HOOKED = MEMBERS[500]!.name

/** REST straight to the hub (not through the page), with the fleet's token unless told. */
async function call(method: string, path: string, body?: unknown, t = token): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { token: t, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = await r.json()
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`)
  return json
}

/** The deliveries of HOOKED's webhooks the API lists with `status` (all when omitted). */
const deliveries = async (status?: 'pending' | 'delivered' | 'dead'): Promise<any[]> =>
  (await call('GET', `/api/events/webhookDeliveries/${HOOKED}?limit=500${status === undefined ? '' : `&status=${status}`}`)).deliveries

/** Two presence flips of HOOKED, straight through the hub: two `instance.state` deliveries, the member as it was. */
function flipPresence(): void {
  const id = running.hub.lookup(account.id, HOOKED)!.id
  running.hub.updateStatus(id, { presenceStatus: 'unavailable' })
  running.hub.updateStatus(id, { presenceStatus: 'available' })
}

function ref(name: string) {
  const i = running.hub.lookup(account.id, name)!
  return { id: i.id, name, settings: i.config.settings, proxy: i.config.proxy }
}

const stateOf = (name: string) => running.hub.lookup(account.id, name)!.status.state


/** Opens the dashboard at `hash`, signs in and waits for the whole fleet. */
async function open(hash = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.on('dialog', (d) => void d.accept())
  watchConsole(page)
  await page.goto(`${base}/${hash}`)
  await page.fill('#token', token)
  await page.press('#token', 'Enter')
  await expect.poll(() => page.textContent('#shown'), { timeout: 20_000 }).toMatch(/^(Showing [\d,]+ of )?10,003( instances)?$/)
  return page
}

/** Every console error is a defect, but the one failed request the running test provokes on purpose. */
function watchConsole(page: Page): void {
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const e = expectedConsole
    if (e !== null && m.text().includes(`status of ${e.status}`) && e.url.test(m.location().url)) return
    consoleErrors.push(`${m.text()} (${m.location().url})`)
  })
  page.on('pageerror', (err) => consoleErrors.push(String(err)))
}

/** Signs in with the admin token: the cluster and accounts panel, once it has rendered an answer. */
async function openAdmin(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  watchConsole(page)
  await page.goto(`${base}/`)
  await page.fill('#token', ADMIN)
  await page.press('#token', 'Enter')
  await expect.poll(() => page.getAttribute('#admin', 'data-state'), { timeout: 20_000 }).toBe('shown')
  return page
}

async function shot(page: Page, file: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, file)
  await page.screenshot({ path })
  expect(statSync(path).size).toBeGreaterThan(10_000)
}

/** Names of the rendered cards or rows, in DOM order. */
const shownNames = (page: Page, what: '.card' | '.row[data-name]') =>
  page.locator(`#instances ${what}`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name!))

/** Serious and critical axe violations on the page as it is, by rule id and the nodes' targets. */
async function audit(page: Page): Promise<{ id: string; targets: string[] }[]> {
  await page.evaluate(axe)
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: any[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
    })
    return r.violations.map((v) => ({ id: v.id as string, impact: v.impact as string, targets: v.nodes.map((n: any) => String(n.target)) as string[] }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(({ id, targets }) => ({ id, targets }))
}

const sorted = (members: readonly Member[]) => members.map((m) => m.name).sort(byName)

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium): the dashboard tests never skip.`)
  axe = axeSource()
  const dashboardDir = join(tempDir(), 'dashboard')
  await buildDashboard(dashboardDir)
  const cfg = loadConfig({
    HUB_HOST: '127.0.0.1',
    HUB_PORT: '0',
    HUB_DATA_DIR: tempDir(),
    HUB_LOG_LEVEL: 'silent',
    HUB_WHATSAPP: 'simulated',
    HUB_RATE_LIMIT_PER_MIN: '1000',
    HUB_ADMIN_TOKEN: ADMIN,
    // The receiver is on 127.0.0.1; a delivery it refuses is dead after a second of short retries.
    HUB_WEBHOOK_ALLOW_PRIVATE: 'true',
    HUB_WEBHOOK_MAX_AGE_S: '1',
    HUB_WEBHOOK_RETRY_BASE_MS: '50',
    HUB_WEBHOOK_RETRY_MAX_MS: '200',
  })
  const log = pino({ level: 'silent' })
  running = await startHub(cfg, { log, whatsapp: {}, dashboardDir })
  wa = running.wa!
  ;({ token, account } = createFleet(running))
  for (const name of FLAPPERS) {
    running.hub.createInstance(account.id, name, defaultConfig())
    await wa.connect(ref(name), { timeoutMs: 5000 })
    await wa.simulator!.scan(ref(name).id)
  }
  await until(() => FLAPPERS.every((n) => stateOf(n) === 'connected'), { what: 'the flappers to connect', ms: 15_000 })
  base = `http://127.0.0.1:${running.port}`
  receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      hook.received++
      res.writeHead(hook.status, { 'content-type': 'text/plain' }).end(String(hook.status))
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  await call('POST', `/api/events/webhook/${HOOKED}`, { enabled: true, url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await running?.stop()
  await new Promise((r) => receiver?.close(r))
})

describe('dashboard with 10,003 instances', () => {
  afterEach(() => {
    const errors = consoleErrors
    consoleErrors = []
    expectedConsole = null
    expect(errors).toEqual([])
  })

  it('shows the cards troubled first, the counts on the state chips, and only a screenful of cards in the DOM', async () => {
    const page = await open()
    expect(await page.textContent('#shown')).toBe(TOTAL_TEXT)
    expect(await page.locator('[data-count]').allTextContents()).toEqual(
      ['disconnected', 'loggedout', 'connecting', 'connected'].map((s) => (countOf(s as Member['state']) + (s === 'connected' ? FLAPPERS.length : 0)).toLocaleString('en-US')),
    )
    const names = await shownNames(page, '.card')
    expect(names.length).toBeGreaterThan(0)
    expect(names.length).toBeLessThanOrEqual(60)
    // Needs attention first: the 200 disconnected lead, newest change first.
    const disconnected = MEMBERS.filter((m) => m.state === 'disconnected').sort((a, b) => a.inStateMs - b.inStateMs || byName(a.name, b.name))
    expect(names).toEqual(disconnected.slice(0, names.length).map((m) => m.name))
    expect(await page.getAttribute('#instances .card >> nth=0', 'aria-posinset')).toBe('1')
    expect(await page.getAttribute('#instances .card >> nth=0', 'aria-setsize')).toBe(String(TOTAL))
    expect(page.url()).toBe(`${base}/`)
    await shot(page, 'fleet-cards.png')
    await page.close()
  })

  it('narrows the list to the one instance typed: by name, by number, by profile name', async () => {
    const page = await open()
    const m = MEMBERS[4321]!
    // `/` jumps to the search box from anywhere.
    await page.locator('#instances').focus()
    await page.keyboard.press('/')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search')
    // `support-043…`: ten supports in 4300–4399, then the one.
    await page.keyboard.type(m.name.slice(0, -2))
    await expect.poll(() => page.textContent('#shown')).toBe('Showing 10 of 10,003')
    await page.keyboard.type(m.name.slice(-2))
    await expect.poll(() => shownNames(page, '.card')).toEqual([m.name])
    expect(await page.textContent('#shown')).toBe('Showing 1 of 10,003')

    await page.fill('#search', `+${m.number.slice(0, 2)} ${m.number.slice(2, 4)} ${m.number.slice(4)}`)
    await expect.poll(() => shownNames(page, '.card')).toEqual([m.name])
    await page.fill('#search', m.profile.toUpperCase())
    await expect.poll(() => shownNames(page, '.card')).toEqual([m.name])
    expect(await page.locator('.card .profile').textContent()).toBe(`${m.profile} · +${m.number}`)
    await shot(page, 'fleet-search.png')
    // Escape in the box clears it.
    await page.press('#search', 'Escape')
    await expect.poll(() => page.textContent('#shown')).toBe(TOTAL_TEXT)
    await page.close()
  })

  it('filters by the state chips and the reason chips, alone and together', async () => {
    const page = await open('#view=table')
    const chip = (state: string) => page.locator(`[data-chip=state][data-state=${state}]`)
    await chip('loggedout').click()
    await expect.poll(() => page.textContent('#shown')).toBe(`Showing ${countOf('loggedout')} of 10,003`)
    expect(await chip('loggedout').getAttribute('aria-pressed')).toBe('true')
    expect(new Set(await page.locator('#instances .row[data-name]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state)))).toEqual(new Set(['loggedout']))

    await chip('disconnected').click()
    await expect.poll(() => page.textContent('#shown')).toBe(`Showing ${countOf('loggedout') + countOf('disconnected')} of 10,003`)
    const reasons = await page.locator('#reasons [data-chip=reason]').evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.reason}=${e.querySelector('b')!.textContent}`))
    expect(reasons).toEqual(['connectionClosed=200', 'connectionReplaced=100', 'forbidden=100', 'loggedOut=100'])
    await page.locator('[data-chip=reason][data-reason=forbidden]').click()
    await expect.poll(() => page.textContent('#shown')).toBe('Showing 100 of 10,003')
    const forbidden = MEMBERS.filter((m) => m.reason?.name === 'forbidden')
    const rows = await shownNames(page, '.row[data-name]')
    expect(rows.every((n) => forbidden.some((m) => m.name === n))).toBe(true)
    await shot(page, 'fleet-chips.png')

    await page.getByRole('button', { name: 'Clear filters' }).click()
    await expect.poll(() => page.textContent('#shown')).toBe(TOTAL_TEXT)
    expect(await page.locator('[aria-pressed=true][data-chip]').count()).toBe(0)
    await page.close()
  })

  it('keeps search, filters, sort and view in the URL and restores them from it, never the token', async () => {
    const page = await open()
    await page.fill('#search', 'lisbon')
    await page.locator('[data-chip=state][data-state=connected]').click()
    await page.selectOption('#sort', 'name')
    await page.getByRole('button', { name: 'Table' }).click()
    const hash = '#q=lisbon&state=connected&sort=name&view=table'
    await expect.poll(() => page.url()).toBe(`${base}/${hash}`)
    expect(page.url()).not.toContain(token)
    await page.close()

    const again = await open(hash)
    const expected = sorted(MEMBERS.filter((m) => m.name.startsWith('lisbon-') && m.state === 'connected'))
    expect(await again.inputValue('#search')).toBe('lisbon')
    expect(await again.inputValue('#sort')).toBe('name')
    expect(await again.getAttribute('[data-chip=state][data-state=connected]', 'aria-pressed')).toBe('true')
    expect(await again.getAttribute('[data-mode=table]', 'aria-pressed')).toBe('true')
    expect(await again.textContent('#shown')).toBe(`Showing ${expected.length.toLocaleString('en-US')} of 10,003`)
    const rows = await shownNames(again, '.row[data-name]')
    expect(rows).toEqual(expected.slice(0, rows.length))
    expect(await again.getAttribute('[role=table]', 'aria-rowcount')).toBe(String(expected.length + 1))
    await shot(again, 'fleet-restored.png')
    await again.close()

    // The open drawer is part of the view; one naming an instance the hub does not have is dropped.
    const withDrawer = await open('#q=flap-c&open=flap-c')
    await expect.poll(() => withDrawer.getAttribute('#drawer', 'data-name')).toBe('flap-c')
    expect(await withDrawer.locator('#drawer').isVisible()).toBe(true)
    await withDrawer.close()
    const unknown = await open('#sort=name&open=nobody')
    await expect.poll(() => unknown.url()).toBe(`${base}/#sort=name`)
    expect(await unknown.locator('#drawer').isVisible()).toBe(false)
    await unknown.close()
  })

  it('keeps a bounded number of rows in the DOM while the table scrolls to the middle and to the end', async () => {
    const page = await open('#sort=name&view=table')
    const all = [...MEMBERS.map((m) => m.name), ...FLAPPERS].sort(byName)
    const rows = page.locator('#instances .row[data-name]')
    expect(await page.getAttribute('[role=table]', 'aria-rowcount')).toBe(String(TOTAL + 1))
    /** Every rendered row is the instance at its aria-rowindex in the name order. */
    const check = async () => {
      const got = await rows.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('aria-rowindex')), (e as HTMLElement).dataset.name!] as const))
      expect(got.length).toBeGreaterThan(0)
      expect(got.length).toBeLessThanOrEqual(MAX_ROWS)
      for (const [index, name] of got) expect(name).toBe(all[index - 2])
      return got
    }
    await check()
    const scrollTo = (f: number) => page.evaluate((f) => {
      const vp = document.getElementById('instances')!
      vp.scrollTop = (vp.scrollHeight - vp.clientHeight) * f
    }, f)

    await scrollTo(0.5)
    await page.waitForFunction(() => [...document.querySelectorAll('#instances .row[aria-rowindex]')].some((r) => Math.abs(Number(r.getAttribute('aria-rowindex')) - 5000) < 30))
    await check()
    await shot(page, 'fleet-table-middle.png')
    // From the scrolled viewport, ArrowDown focuses the first row in view (the one just under the header).
    await page.locator('#instances').focus()
    await page.keyboard.press('ArrowDown')
    const inView = await page.evaluate(() => {
      const row = document.activeElement!.closest('.row') as HTMLElement
      const head = document.querySelector('#instances .thead')!.getBoundingClientRect().bottom
      const previous = row.previousElementSibling?.getBoundingClientRect().top ?? -Infinity
      return [Math.round(row.getBoundingClientRect().top) >= Math.round(head), previous < head]
    })
    expect(inView).toEqual([true, true])

    await scrollTo(1)
    await page.waitForFunction((last) => document.querySelector(`#instances .row[aria-rowindex="${last}"]`) !== null, TOTAL + 1)
    const end = await check()
    expect(end[end.length - 1]).toEqual([TOTAL + 1, all[TOTAL - 1]])

    // The keyboard reaches rows that are not rendered: Home focuses the first instance.
    await rows.last().locator('button.open').focus()
    await page.keyboard.press('Home')
    await expect.poll(() => page.evaluate(() => (document.activeElement?.closest('[data-name]') as HTMLElement | null)?.dataset.name)).toBe(all[0])
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    expect(await page.evaluate(() => (document.activeElement?.closest('[data-name]') as HTMLElement | null)?.dataset.name)).toBe(all[2])
    await page.keyboard.press('End')
    expect(await page.evaluate(() => (document.activeElement?.closest('[data-name]') as HTMLElement | null)?.dataset.name)).toBe(all[TOTAL - 1])
    await check()
    await page.close()
  })

  it('puts a freshly dropped instance first when sorted by attention', async () => {
    const page = await open('#view=table')
    const first = () => page.locator('#instances .row[data-name] >> nth=0').getAttribute('data-name')
    const fixture = MEMBERS.filter((m) => m.state === 'disconnected').sort((a, b) => a.inStateMs - b.inStateMs || byName(a.name, b.name))[0]!
    expect(await first()).toBe(fixture.name)
    // 403 is not retried: flap-b stays disconnected, the newest trouble of all.
    await wa.simulator!.close(ref('flap-b').id, 403, 'Forbidden')
    await expect.poll(first).toBe('flap-b')
    expect(await page.getAttribute('.row[data-name="flap-b"]', 'data-state')).toBe('disconnected')
    expect(await page.locator('.row[data-name="flap-b"] .c-reason').textContent()).toBe('403 forbidden: Forbidden')
    await shot(page, 'fleet-dropped-first.png')

    // Sorted by name it goes back among the f's; by time in state, the newest is last.
    await page.selectOption('#sort', 'time')
    await expect.poll(first).not.toBe('flap-b')
    await page.selectOption('#sort', 'attention')
    await expect.poll(first).toBe('flap-b')
    await page.close()
  })

  it("draws the drawer's timeline from what the stream showed after a few flaps, while the hub has no history route", async () => {
    const page = await open('#q=flap-a')
    // Whatever the hub serves, this test is about the fallback: the route answers as a hub without it.
    expectedConsole = { status: 404, url: /\/api\/instance\/history\/flap-a\?limit=1000$/ }
    await page.route('**/api/instance/history/**', (r) =>
      r.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ success: false, error: { message: 'Not found' } }) }),
    )
    await expect.poll(() => shownNames(page, '.card')).toEqual(['flap-a'])
    for (let i = 0; i < 3; i++) {
      await wa.simulator!.close(ref('flap-a').id, 428, 'Connection Terminated')
      await until(() => stateOf('flap-a') === 'connecting', { what: 'flap-a to drop', ms: 15_000 })
      await until(() => stateOf('flap-a') === 'connected', { what: 'flap-a to come back', ms: 15_000 })
    }
    await expect.poll(() => page.getAttribute('.card[data-name="flap-a"]', 'data-state')).toBe('connected')
    await page.getByRole('button', { name: 'Details for flap-a' }).click()
    const drawer = page.locator('#drawer')
    await expect.poll(() => drawer.getAttribute('data-name')).toBe('flap-a')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('drawer-title')
    expect(page.url()).toBe(`${base}/#q=flap-a&open=flap-a`)
    const history = drawer.locator('[data-section=history] .history')
    await expect.poll(() => history.getAttribute('data-source')).toBe('stream')

    const states = await history.locator('.history-list li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state!))
    const collapsed = states.filter((s, i) => s !== states[i - 1])
    expect(collapsed).toEqual(['connected', 'connecting', 'connected', 'connecting', 'connected', 'connecting', 'connected'])
    const reasons = await history.locator('.history-list li[data-state=connecting] .why').allTextContents()
    expect(new Set(reasons)).toEqual(new Set(['428 connectionClosed: Connection Terminated']))
    expect(await history.locator('.source').textContent()).toBe(`The hub keeps no history yet: ${states.length} transitions the stream has shown since this page opened.`)
    // The strip: what came before the page is unknown, then connected and three drops.
    const spans = await history.locator('.strip.day .span').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state))
    expect(spans).toEqual(['none', 'connected', 'connecting', 'connected', 'connecting', 'connected', 'connecting', 'connected'])
    // Seconds of flaps are slivers of a day: the known part is drawn again at full width.
    expect(await history.locator('.zoom-box').isVisible()).toBe(true)
    const zoomed = await history.locator('.strip.zoom .span').evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.state, parseFloat((e as HTMLElement).style.width)] as const))
    expect(zoomed.map(([s]) => s)).toEqual(['connected', 'connecting', 'connected', 'connecting', 'connected', 'connecting', 'connected'])
    expect(Math.round(zoomed.reduce((a, [, w]) => a + w, 0))).toBe(100)
    const label = (await history.locator('.strip.day').getAttribute('aria-label'))!
    expect(label).toMatch(/^Last 24 hours: /)
    expect(new Set(label.slice('Last 24 hours: '.length).split(', ').map((p) => p.replace(/ [\dhms ]+$/, '')))).toEqual(new Set(['no record', 'connected', 'connecting']))
    await shot(page, 'fleet-drawer-flaps.png')

    // Escape closes it and gives the focus back to the card's button.
    await page.keyboard.press('Escape')
    await expect.poll(() => drawer.isVisible()).toBe(false)
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Details for flap-a')
    expect(page.url()).toBe(`${base}/#q=flap-a`)
    await page.close()
  })

  it("draws the drawer from the hub's history endpoint, with uptime and liveness, when the hub has it", async () => {
    const page = await open('#q=flap-c&view=table')
    const now = Date.now()
    const iso = (hAgo: number) => new Date(now - hAgo * 3_600_000).toISOString()
    const answer = {
      success: true,
      instance: 'flap-c',
      history: [
        { at: iso(5), seq: 9003, state: 'connected', reason: null, displayStatus: 'Online' },
        { at: iso(5.5), seq: 9002, state: 'connecting', reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }, displayStatus: 'Reconnecting (connection closed), attempt 1' },
        { at: iso(6), seq: 9001, state: 'disconnected', reason: { code: 408, name: 'connectionLost', message: 'Connection Lost' }, displayStatus: 'Disconnected (connection lost)' },
        { at: iso(20), seq: 9000, state: 'connected', reason: null, displayStatus: 'Online' },
      ],
      uptime: { share24h: 0.75, connectedMs: 18 * 3_600_000, windowMs: 24 * 3_600_000 },
      liveness: { lastFrameAt: new Date(now - 4000).toISOString(), connectedSince: iso(5) },
    }
    const asked: string[] = []
    await page.route('**/api/instance/history/**', (r) => {
      asked.push(new URL(r.request().url()).pathname + new URL(r.request().url()).search)
      return r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) })
    })
    await page.getByRole('button', { name: 'Details for flap-c' }).click()
    const history = page.locator('#drawer [data-section=history] .history')
    await expect.poll(() => history.getAttribute('data-source')).toBe('hub')
    expect(asked).toEqual(['/api/instance/history/flap-c?limit=1000'])
    expect(await history.locator('.uptime').textContent()).toBe('Connected 75.0% of the last 24 hours (18h 00m), as the hub counts it.')
    expect(await history.locator('.liveness').textContent()).toMatch(/^Last frame from WhatsApp \d+s ago, connected since \d\d:\d\d:\d\d\.$/)
    expect(await history.locator('.source').textContent()).toBe("From the hub's history: 4 transitions.")
    expect(await history.locator('.strip.day .span').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state))).toEqual([
      'none',
      'connected',
      'disconnected',
      'connecting',
      'connected',
    ])
    expect(await history.locator('.history-list .what').allTextContents()).toEqual(answer.history.map((h) => h.displayStatus))
    expect(await history.locator('.history-list .why').allTextContents()).toEqual(['428 connectionClosed: Connection Terminated', '408 connectionLost: Connection Lost'])
    await shot(page, 'fleet-drawer-hub.png')

    // A drop after the answer joins it from the stream, in front.
    await wa.simulator!.close(ref('flap-c').id, 428, 'Connection Terminated')
    await expect.poll(() => history.locator('.history-list li >> nth=0').getAttribute('data-state')).toBe('connecting')
    await until(() => stateOf('flap-c') === 'connected', { what: 'flap-c to come back', ms: 15_000 })
    await page.close()
  })

  it('says so when the instance is unknown to the history (404 "Instance not found"), unlike a missing route', async () => {
    const page = await open('#q=flap-c')
    expectedConsole = { status: 404, url: /\/api\/instance\/history\/flap-c\?limit=1000$/ }
    await page.route('**/api/instance/history/**', (r) =>
      r.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ success: false, error: { message: 'Instance not found' } }) }),
    )
    await page.getByRole('button', { name: 'Details for flap-c' }).click()
    const history = page.locator('#drawer [data-section=history] .history')
    await expect.poll(() => history.locator('.source').textContent()).toMatch(/^Instance not found: \d+ transitions? the stream showed\.$/)
    expect(await history.getAttribute('data-source')).toBe('stream')
    await shot(page, 'fleet-drawer-unknown.png')
    await page.close()
  })

  it("draws the drawer from the hub's own history after real flaps (no mocked route): the strip's spans and the uptime are the endpoint's", async () => {
    const page = await open('#q=flap-c')
    await expect.poll(() => shownNames(page, '.card')).toEqual(['flap-c'])
    for (let i = 0; i < 3; i++) {
      await wa.simulator!.close(ref('flap-c').id, 428, 'Connection Terminated')
      await until(() => stateOf('flap-c') === 'connecting', { what: 'flap-c to drop', ms: 15_000 })
      await until(() => stateOf('flap-c') === 'connected', { what: 'flap-c to come back', ms: 15_000 })
    }
    // Its backlog arrived: nothing more is coming that the stream could add in front of the hub's answer.
    await until(() => running.hub.lookup(account.id, 'flap-c')!.status.synced, { what: 'flap-c to sync', ms: 15_000 })
    await expect.poll(() => page.getAttribute('.card[data-name="flap-c"]', 'data-state')).toBe('connected')
    // The very answer the page got (read, not replaced).
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/instance/history/flap-c')
    await page.getByRole('button', { name: 'Details for flap-c' }).click()
    const answer = await (await answered).json()
    const history = page.locator('#drawer [data-section=history] .history')
    await expect.poll(() => history.getAttribute('data-source')).toBe('hub')
    // What the page got is what the endpoint answers.
    expect((await call('GET', '/api/instance/history/flap-c?limit=1000')).history).toEqual(answer.history)
    // Created in this suite and flapped three times here (and once more by the hub-answer test, when it ran).
    const entries = answer.history as { at: string; state: string }[]
    expect(entries.filter((e) => e.state === 'connecting').length).toBeGreaterThanOrEqual(3)
    expect(await history.locator('.source').textContent()).toBe(`From the hub's history: ${entries.length} transitions.`)
    expect(await history.locator('.history-list li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state))).toEqual(entries.map((e) => e.state))

    // The strip: no record before the instance existed, then each entry's state until the next
    // one, an entry that lasted no time showing nothing, and neighbours of one state as one span.
    const points = [...entries].reverse().map((e) => ({ at: Date.parse(e.at), state: e.state }))
    const expected = ['none']
    points.forEach((p, i) => {
      const next = points[i + 1]
      if (next !== undefined && next.at <= p.at) return
      if (expected[expected.length - 1] !== p.state) expected.push(p.state)
    })
    expect(await history.locator('.strip.day .span').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state))).toEqual(expected)
    const u = answer.uptime as { share24h: number; connectedMs: number; windowMs: number }
    expect(u.windowMs).toBeLessThan(DAY_MS)
    expect(await history.locator('.uptime').textContent()).toBe(`Connected ${percentText(u.share24h)} of the last ${duration(u.windowMs)} (${duration(u.connectedMs)}), as the hub counts it.`)
    expect(answer.liveness.connectedSince).not.toBeNull()
    expect(await history.locator('.liveness').textContent()).toMatch(/^Last frame from WhatsApp \d+s ago, connected since \d\d:\d\d:\d\d\.$/)
    await shot(page, 'fleet-drawer-hub-real.png')
    await page.close()
  }, 60_000)

  it('shows the monitor signals: syncing… on a connected number without its backlog, the close detail in the reason tooltip and in the drawer', async () => {
    const unsynced = MEMBERS[63]!
    const replaced = MEMBERS[13]!
    const removed = MEMBERS[29]!
    const synced = MEMBERS[64]!
    expect([unsynced.state, unsynced.synced, replaced.closeDetail, removed.closeDetail, synced.synced]).toEqual(['connected', false, 'conflict:replaced', 'conflict:device_removed', true])
    const listed = async (name: string) => (await call('GET', `/api/instance/list?instanceName=${name}`)).instances[0].connection
    const page = await open(`#q=${unsynced.name}`)
    const card = (name: string) => page.locator(`.card[data-name="${name}"]`)
    await expect.poll(() => shownNames(page, '.card')).toEqual([unsynced.name])
    expect((await listed(unsynced.name)).synced).toBe(false)
    expect(await card(unsynced.name).locator('.reason').textContent()).toBe('syncing…')
    expect(await card(unsynced.name).locator('.badge').textContent()).toBe('connected')

    await page.fill('#search', synced.name)
    await expect.poll(() => shownNames(page, '.card')).toEqual([synced.name])
    expect((await listed(synced.name)).synced).toBe(true)
    expect(await card(synced.name).locator('.reason').textContent()).toBe('')
    // A paired simulator socket gets its backlog too, half a second after the open.
    await until(() => running.hub.lookup(account.id, 'flap-a')!.status.synced, { what: 'flap-a to sync' })
    expect((await listed('flap-a')).synced).toBe(true)

    const c = await listed(replaced.name)
    expect(c.closeDetail).toBe('conflict:replaced')
    await page.fill('#search', replaced.name)
    await expect.poll(() => shownNames(page, '.card')).toEqual([replaced.name])
    const tooltip = `440 connectionReplaced: Stream Errored (conflict) — ${c.displayStatus} — detail: conflict:replaced`
    expect(await card(replaced.name).locator('.reason').getAttribute('title')).toBe(tooltip)
    await card(replaced.name).getByRole('button', { name: `Details for ${replaced.name}` }).click()
    const now = page.locator('#drawer [data-section=summary]')
    await expect.poll(() => page.getAttribute('#drawer', 'data-name')).toBe(replaced.name)
    expect(await now.locator('dd[data-field=closeDetail]').textContent()).toBe('conflict:replaced')
    // Synced means nothing while disconnected: the field is left out, not shown as "no".
    expect(await now.locator('dd[data-field=synced]').isHidden()).toBe(true)

    // The table: the tooltip on the reason, `syncing…` under the time in state.
    await page.getByRole('button', { name: 'Table' }).click()
    await page.fill('#search', removed.name)
    await expect.poll(() => shownNames(page, '.row[data-name]')).toEqual([removed.name])
    expect((await listed(removed.name)).closeDetail).toBe('conflict:device_removed')
    expect(await page.locator(`.row[data-name="${removed.name}"] .reason-text`).getAttribute('title')).toBe('401 loggedOut: Connection Failure — Logged out — detail: conflict:device_removed')
    await page.fill('#search', unsynced.name)
    await expect.poll(() => shownNames(page, '.row[data-name]')).toEqual([unsynced.name])
    expect(await page.locator(`.row[data-name="${unsynced.name}"] .sync`).textContent()).toBe('syncing…')
    await page.getByRole('button', { name: `Details for ${unsynced.name}` }).click()
    await expect.poll(() => page.getAttribute('#drawer', 'data-name')).toBe(unsynced.name)
    expect(await now.locator('dd[data-field=synced]').textContent()).toBe('not yet: syncing… (the offline backlog is still arriving)')
    expect(await now.locator('dd[data-field=closeDetail]').isHidden()).toBe(true)
    await shot(page, 'fleet-drawer-signals.png')
    await page.close()
  })

  it('shows the webhook deliveries of an instance with webhooks (pending, dead letters, the latest) as the API lists them, and retries the dead ones', async () => {
    hook.status = 500
    flipPresence()
    flipPresence()
    // The receiver refuses them all: after a second of retries every one is a dead letter.
    await until(async () => (await deliveries('dead')).length === 4 && (await deliveries('pending')).length === 0, {
      what: 'four dead letters',
      ms: 15_000,
      detail: () => hook,
    })
    const page = await open(`#q=${HOOKED}`)
    await page.getByRole('button', { name: `Details for ${HOOKED}` }).click()
    const section = page.locator('#drawer [data-section=webhooks]')
    const box = section.locator('.webhooks')
    await expect.poll(() => box.getAttribute('data-state')).toBe('shown')
    expect(await section.isVisible()).toBe(true)
    expect(await box.locator('.hooks li').allTextContents()).toEqual([`default enabled → http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`])
    const shown = () =>
      box.locator('.deliveries tbody tr').evaluateAll((els) =>
        els.map((e) => ({
          id: (e as HTMLElement).dataset.id,
          label: e.querySelector('.label')!.textContent,
          seq: e.querySelector('.seq')!.textContent,
          status: e.querySelector('.status')!.textContent,
          attempts: e.querySelector('.attempts')!.textContent,
          lastError: e.querySelector('.last-error')!.textContent,
          next: e.querySelector('.next time')?.getAttribute('datetime') ?? e.querySelector('.next')!.textContent,
        })),
      )
    const listed = async () =>
      (await deliveries()).slice(0, 10).map((d) => ({
        id: d.id,
        label: d.label,
        seq: String(d.seq),
        status: d.status,
        attempts: String(d.attempts),
        lastError: d.lastError ?? '—',
        next: d.nextAttemptAt ?? '—',
      }))
    const counts = async () => [await box.locator('[data-deliveries=pending]').textContent(), await box.locator('[data-deliveries=dead]').textContent()]
    expect(await counts()).toEqual(['0', '4'])
    const dead = await listed()
    expect(dead.map((d) => d.status)).toEqual(['dead', 'dead', 'dead', 'dead'])
    expect(await shown()).toEqual(dead)
    await box.locator('.deliveries').scrollIntoViewIfNeeded()
    await shot(page, 'fleet-drawer-webhooks.png')

    // The receiver recovers; Retry re-queues the four and says so, with the hub's count.
    hook.status = 200
    await section.getByRole('button', { name: `Retry dead deliveries of ${HOOKED}` }).click()
    await expect.poll(() => box.locator('.retry-result').getAttribute('data-requeued')).toBe('4')
    expect(await box.locator('.retry-result').textContent()).toBe('Re-queued 4 dead deliveries.')
    await until(async () => (await deliveries('delivered')).length === 4, { what: 'the four to be delivered', ms: 15_000 })
    await section.getByRole('button', { name: 'Refresh webhook deliveries' }).click()
    await expect.poll(counts).toEqual(['0', '0'])
    const delivered = await listed()
    expect(delivered.map((d) => [d.id, d.status, d.attempts])).toEqual(dead.map((d) => [d.id, 'delivered', '1']))
    await expect.poll(shown).toEqual(delivered)
    await box.locator('.deliveries').scrollIntoViewIfNeeded()
    await shot(page, 'fleet-drawer-webhooks-retried.png')

    // An instance without webhooks has no such section.
    const other = MEMBERS[501]!.name
    expect((await call('GET', `/api/events/getWebhook/${other}`)).webhooks).toEqual([])
    await page.fill('#search', other)
    await page.getByRole('button', { name: `Details for ${other}` }).click()
    await expect.poll(() => page.getAttribute('#drawer', 'data-name')).toBe(other)
    await expect.poll(() => box.getAttribute('data-state')).toBe('none')
    expect(await section.isHidden()).toBe(true)
    await page.close()
  })

  it('shows the admin token the cluster (one node for the embedded hub) and the accounts, exactly as the API answers, and no instance stream', async () => {
    // The sign-in asks for the instance list first: the admin token is refused it (403), then the cluster answers.
    expectedConsole = { status: 403, url: /\/api\/instance\/list\?instanceName=$/ }
    const clusterAnswers: any[] = []
    const sockets: string[] = []
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    watchConsole(page)
    page.on('websocket', (ws) => sockets.push(ws.url()))
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/admin/cluster') clusterAnswers.push(r.json())
    })
    await page.goto(`${base}/`)
    await page.fill('#token', ADMIN)
    await page.press('#token', 'Enter')
    const panel = page.locator('#admin')
    await expect.poll(() => panel.getAttribute('data-loaded')).toBe('1')
    // The sign-in's answer, then the panel's.
    expect(clusterAnswers).toHaveLength(2)
    const cluster = await clusterAnswers[1]
    expect(cluster.epoch).toBe(running.hub.epoch)
    expect(cluster.nodes).toHaveLength(1)
    const node = cluster.nodes[0]
    expect([node.roles, node.accounts]).toEqual([['worker', 'edge'], running.hub.accounts().length])
    expect(node.instances).toBe(running.wa!.driven().length)
    expect(await panel.locator('[data-field=epoch]').textContent()).toBe(running.hub.epoch)
    expect(await panel.locator('[data-field=readiness]').textContent()).toBe('ready')
    expect(await panel.locator('[data-field=nodes]').textContent()).toBe('1')
    const nodes = await panel.locator('table.nodes tbody tr').evaluateAll((els) =>
      els.map((e) => [(e as HTMLElement).dataset.node, ...[...e.children].map((c) => c.querySelector('time')?.getAttribute('datetime') ?? c.textContent)]),
    )
    expect(nodes).toEqual([[node.id, node.id, 'worker, edge', node.instances.toLocaleString('en-US'), node.accounts.toLocaleString('en-US'), node.lastSeenAt]])

    const accounts = (await call('GET', '/api/admin/accounts', undefined, ADMIN)).accounts as any[]
    expect(accounts.map((a) => [a.name, a.instances])).toEqual([
      ['default', 0],
      ['fleet', TOTAL],
    ])
    const rows = await panel.locator('table.accounts-table tbody tr').evaluateAll((els) =>
      els.map((e) => [...e.children].map((c) => c.querySelector('time')?.getAttribute('datetime') ?? c.textContent)),
    )
    expect(rows).toEqual(accounts.map((a) => [String(a.id), a.name, a.instances.toLocaleString('en-US'), a.instanceLimit.toLocaleString('en-US'), a.createdAt]))
    // The admin token reaches no instance: no list, no stream.
    expect(await page.isVisible('#board')).toBe(false)
    expect(await page.isVisible('#counters')).toBe(false)
    expect(sockets).toEqual([])
    await shot(page, 'fleet-admin-cluster.png')

    await page.click('#signout')
    await expect.poll(() => page.isVisible('#login')).toBe(true)
    expect(await panel.isHidden()).toBe(true)
    await page.close()
  })

  it('offers in the drawer only the actions that apply to the state', async () => {
    const page = await open('#view=table')
    const offered = async (name: string) => {
      await page.fill('#search', name)
      await expect.poll(() => shownNames(page, '.row[data-name]')).toEqual([name])
      await page.getByRole('button', { name: `Details for ${name}` }).click()
      await expect.poll(() => page.getAttribute('#drawer', 'data-name')).toBe(name)
      return page.locator('#drawer [data-section=actions] button:visible').allTextContents()
    }
    const first = (state: Member['state'], retrying = false) => MEMBERS.find((m) => m.state === state && (state !== 'connecting' || (m.reason !== null) === retrying))!.name
    expect(await offered(first('connected'))).toEqual(['Log out', 'Delete', 'Simulate drop'])
    expect(await offered(first('disconnected'))).toEqual(['Connect', 'Reconnect', 'Log out', 'Delete'])
    expect(await offered(first('loggedout'))).toEqual(['Connect', 'Delete'])
    expect(await offered(first('connecting', true))).toEqual(['Reconnect', 'Log out', 'Delete'])
    expect(await offered(first('connecting', false))).toEqual(['Connect', 'Log out', 'Delete', 'Simulate scan'])
    await shot(page, 'fleet-drawer-actions.png')
    await page.close()
  })

  it('never lets colour alone carry a state: words on every badge, a shape per state, a pattern per span, a tick on a pressed chip', async () => {
    const page = await open('#view=table')
    const labels: Record<string, string> = { connected: 'connected', connecting: 'connecting', disconnected: 'disconnected', loggedout: 'logged out' }
    const badges = await page.locator('#instances .row[data-name] .badge').evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.state!, e.textContent!] as const))
    expect(badges.length).toBeGreaterThan(0)
    for (const [state, text] of badges) expect(text).toBe(labels[state])
    const glyphs = await page.locator('[data-chip=state]').evaluateAll((els) => els.map((e) => getComputedStyle(e, '::before').content))
    expect(new Set(glyphs).size).toBe(4)
    expect(glyphs.every((g) => g !== 'none' && g !== '""')).toBe(true)
    // Each state's span in a strip has its own background image (solid, hatched, striped, crossed).
    const patterns = await page.evaluate(() =>
      ['connected', 'connecting', 'disconnected', 'loggedout'].map((state) => {
        const span = document.createElement('span')
        span.className = 'span'
        span.dataset.state = state
        const strip = document.createElement('div')
        strip.className = 'strip'
        strip.append(span)
        document.body.append(strip)
        const s = getComputedStyle(span)
        const key = `${s.backgroundImage}|${s.backgroundColor}`
        strip.remove()
        return key
      }),
    )
    expect(new Set(patterns).size).toBe(4)
    const chip = page.locator('[data-chip=state][data-state=loggedout]')
    expect(await chip.evaluate((e) => getComputedStyle(e, '::after').content)).toBe('none')
    await chip.click()
    await expect.poll(() => chip.evaluate((e) => getComputedStyle(e, '::after').content)).toBe('"✓"')
    await shot(page, 'fleet-not-colour-alone.png')
    await page.close()
  })

  it('on a phone-width screen lays the drawer over the list and never scrolls the page sideways', async () => {
    const page = await open('#view=table')
    await page.setViewportSize({ width: 390, height: 844 })
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    await expect.poll(overflow).toBe(0)
    // The table is wider than the phone: it scrolls inside its viewport.
    expect(await page.evaluate(() => document.getElementById('instances')!.scrollWidth > document.getElementById('instances')!.clientWidth)).toBe(true)
    const name = (await shownNames(page, '.row[data-name]'))[0]!
    await page.getByRole('button', { name: `Details for ${name}` }).click()
    await expect.poll(() => page.getAttribute('#drawer', 'data-name')).toBe(name)
    const box = (await page.locator('#drawer').boundingBox())!
    expect([Math.round(box.x), Math.round(box.width)]).toEqual([0, 390])
    expect(await overflow()).toBe(0)
    await shot(page, 'fleet-phone-drawer.png')
    await page.close()
  })

  it('passes an axe-core audit without serious violations: sign-in, cards, table, chips pressed, the drawer open, its webhook section, the admin panel', async () => {
    const login = await browser.newPage()
    await login.goto(`${base}/`)
    expect(await audit(login)).toEqual([])
    await login.close()
    const page = await open()
    expect(await audit(page)).toEqual([])
    await page.locator('[data-chip=state][data-state=connecting]').click()
    await page.getByRole('button', { name: 'Table' }).click()
    await expect.poll(() => page.locator('#instances .row[data-name]').count()).toBeGreaterThan(0)
    expect(await audit(page)).toEqual([])
    await page.locator('#instances .row[data-name] button.open >> nth=0').press('Enter')
    await expect.poll(() => page.locator('#drawer').isVisible()).toBe(true)
    await expect.poll(() => page.getAttribute('#drawer .history', 'data-source')).not.toBe('loading')
    expect(await audit(page)).toEqual([])
    await shot(page, 'fleet-axe-drawer.png')
    await page.close()

    // The drawer of an instance with webhooks and deliveries: the webhook section and its table.
    flipPresence()
    await until(async () => (await deliveries()).length > 0, { what: 'a delivery of the hooked instance' })
    const hooked = await open(`#q=${HOOKED}&open=${HOOKED}`)
    await expect.poll(() => hooked.getAttribute('#drawer .webhooks', 'data-state')).toBe('shown')
    expect(await hooked.locator('#drawer .deliveries tbody tr').count()).toBeGreaterThan(0)
    await expect.poll(() => hooked.getAttribute('#drawer .history', 'data-source')).not.toBe('loading')
    expect(await audit(hooked)).toEqual([])
    await shot(hooked, 'fleet-axe-webhooks.png')
    await hooked.close()

    // The admin token's cluster and accounts panel.
    expectedConsole = { status: 403, url: /\/api\/instance\/list\?instanceName=$/ }
    const admin = await openAdmin()
    expect(await audit(admin)).toEqual([])
    await shot(admin, 'fleet-axe-admin.png')
    await admin.close()
  })

  // Last: it changes the whole fleet.
  it('folds a burst of 10,000 changes into per-frame batches and keeps the rendered rows (and their nodes) bounded', async () => {
    const page = await open('#sort=name&view=table')
    const rows = page.locator('#instances .row[data-name]')
    const rendered = await rows.count()
    expect(rendered).toBeLessThanOrEqual(MAX_ROWS)
    await rows.evaluateAll((els) => els.forEach((e) => ((e as HTMLElement & { tagged?: boolean }).tagged = true)))
    const before = Number(await page.getAttribute('#instances', 'data-renders'))
    for (const m of MEMBERS) running.hub.updateStatus(running.hub.lookup(account.id, m.name)!.id, { state: 'disconnected', reason: null, retryAt: null, displayStatus: 'Disconnected (stopped)' })
    // The fleet, and flap-b when the drop test ran before.
    const disconnected = running.hub.instancesOf(account.id).filter((i) => i.status.state === 'disconnected').length
    await expect.poll(() => page.textContent('[data-count=disconnected]'), { timeout: 20_000 }).toBe(disconnected.toLocaleString('en-US'))
    const batches = Number(await page.getAttribute('#instances', 'data-renders')) - before
    expect(batches).toBeGreaterThan(0)
    expect(batches).toBeLessThan(1000)
    // By name nothing moved: the same nodes, each showing its new state (a row more may fit once
    // the reason chips, all gone now, leave the viewport more room).
    expect(await rows.count()).toBeLessThanOrEqual(MAX_ROWS)
    expect(await rows.evaluateAll((els) => els.filter((e) => (e as HTMLElement & { tagged?: boolean }).tagged).length)).toBe(rendered)
    // The first thousand by name are the austin-… members, all of them now disconnected.
    expect(new Set(await rows.evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.name!.split('-')[0]}:${(e as HTMLElement).dataset.state}`)))).toEqual(new Set(['austin:disconnected']))
    await shot(page, 'fleet-after-burst.png')
    await page.close()
  }, 60_000)
})
