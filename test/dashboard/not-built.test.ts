/**
 * A hub whose dashboard files were never built (`npm run build` not run): the API works, every
 * dashboard path answers 503 saying how to build them, and the start-up log says so.
 */
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHub, type RunningHub } from '../../src/app/compose.js'
import { loadConfig } from '../../src/app/config.js'
import { ADMIN, tempDir } from '../helpers/hub.js'

const dashboardDir = join(tempDir(), 'never-built')
const message = `The dashboard is not built (${dashboardDir} is missing). Run \`npm run build\` (npm install runs it) and restart the hub.`
const body = JSON.stringify({ success: false, error: { message } })

let running: RunningHub
let base: string
const logged: { level: number; msg: string; dir?: string }[] = []

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line !== '') logged.push(JSON.parse(line))
      cb()
    },
  })
  const cfg = loadConfig({ HUB_HOST: '127.0.0.1', HUB_PORT: '0', HUB_DATA_DIR: tempDir(), HUB_ADMIN_TOKEN: ADMIN })
  running = await startHub(cfg, { log: pino({ level: 'error' }, sink), whatsapp: null, dashboardDir })
  base = `http://127.0.0.1:${running.port}`
})

afterAll(async () => {
  await running?.stop()
})

describe('a hub started without its built dashboard', () => {
  it('answers / with 503 and a JSON body saying which directory is missing and how to build it', async () => {
    const r = await fetch(`${base}/`)
    expect({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }).toEqual({ status: 503, type: 'application/json', body })
  })

  it('answers every dashboard file the same way, and HEAD with the same status and length but no body', async () => {
    for (const path of ['/index.html', '/app.js', '/app.css']) {
      const r = await fetch(base + path)
      expect({ path, status: r.status, body: await r.text() }).toEqual({ path, status: 503, body })
    }
    const head = await fetch(`${base}/`, { method: 'HEAD' })
    expect({ status: head.status, length: head.headers.get('content-length'), body: await head.text() }).toEqual({
      status: 503,
      length: String(Buffer.byteLength(body)),
      body: '',
    })
  })

  it('logs the missing build once at start-up, as an error naming the directory', () => {
    expect(logged.map((l) => ({ level: l.level, msg: l.msg, dir: l.dir }))).toEqual([
      { level: 50, msg: 'the dashboard is not built: run `npm run build`; / answers 503 until then', dir: dashboardDir },
    ])
  })

  it('still serves the API', async () => {
    const r = await fetch(`${base}/api/instance/list`, { headers: { token: running.first.defaultAccountToken! } })
    const json = await r.json()
    expect({ status: r.status, success: json.success, instances: json.instances }).toEqual({ status: 200, success: true, instances: [] })
  })
})
