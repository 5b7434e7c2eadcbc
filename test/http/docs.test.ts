/**
 * `/docs`: Swagger UI from the installed swagger-ui-dist package, rendering /openapi.json in a real
 * Chromium under the page's CSP, with nothing fetched from anywhere but the hub.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOCS_CSP } from '../../src/edges/http/docs.js'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'

const CHROMIUM = '/usr/bin/chromium'

let h: TestHub
let browser: Browser
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium): these tests never skip.`)
  h = await startTestHub()
  await createInstances(h, ['sales'])
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
}, 30_000)
afterAll(async () => {
  await browser?.close()
  await h?.stop()
})

describe('/docs', () => {
  it('redirects /docs to /docs/ and serves the viewer’s files with the CSP, compressed on request', async () => {
    const redirect = await fetch(`${h.base}/docs`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('docs/')
    const page = await fetch(`${h.base}/docs/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP)
    expect(await page.text()).toContain('<script src="swagger-ui-bundle.js"></script>')
    const bundle = await fetch(`${h.base}/docs/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'br' } })
    expect(bundle.headers.get('content-encoding')).toBe('br')
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const js = await bundle.text()
    expect(js).toContain('SwaggerUIBundle')
    expect(js).not.toContain('sourceMappingURL')
    const again = await fetch(`${h.base}/docs/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'br', 'if-none-match': bundle.headers.get('etag')! } })
    expect(again.status).toBe(304)
  })

  it('renders every operation of the route table in Chromium, with no CSP violation and no request off the hub', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    const elsewhere: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text())
    })
    page.on('pageerror', (err) => problems.push(String(err)))
    page.on('request', (r) => {
      if (!r.url().startsWith(h.base) && !r.url().startsWith('data:')) elsewhere.push(r.url())
    })
    await page.goto(`${h.base}/docs`)
    await page.waitForSelector('.opblock', { timeout: 15_000 })
    const operations = await page.locator('.opblock').count()
    expect(operations).toBe(h.http.router.routes.length)
    expect(await page.locator('.info .title').innerText()).toContain('statushub')
    // One operation opened, its schemas rendered from the document.
    await page.locator('.opblock-summary-path[data-path="/api/instance/list"]').first().click()
    await page.waitForSelector('.opblock.is-open .responses-table')
    expect(await page.locator('.opblock.is-open').innerText()).toContain('instanceName')
    expect(problems).toEqual([])
    expect(elsewhere).toEqual([])
    await page.close()
  }, 30_000)
})
