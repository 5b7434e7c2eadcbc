/**
 * The README's reverse-proxy example, run: Debian's nginx with docs/nginx.conf (only its listen
 * address and upstream port filled in) in front of a real hub. Lists, compression and conditional
 * requests pass through; WebSocket upgrades (with the proxy's own origin) reach /ws and
 * /ws/:instance; SSE events arrive one by one, unbuffered.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { freePort } from '../../src/app/loopback.js'
import { createInstances, instanceId, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

const NGINX = '/usr/sbin/nginx'
const ROOT = join(import.meta.dirname, '..', '..')
const EXAMPLE = readFileSync(join(ROOT, 'docs', 'nginx.conf'), 'utf8')

let h: TestHub
let nginx: ChildProcess
let port: number
let dir: string
let nginxLog = ''

/** The example with one substitution each, failing if the line it replaces is not there exactly once. */
function fill(conf: string, from: string, to: string): string {
  const parts = conf.split(from)
  if (parts.length !== 2) throw new Error(`docs/nginx.conf must hold "${from}" exactly once (found ${parts.length - 1})`)
  return parts.join(to)
}

beforeAll(async () => {
  if (!existsSync(NGINX)) throw new Error(`nginx not found at ${NGINX}. Install it (apt-get install -y nginx): this test never skips.`)
  h = await startTestHub()
  await createInstances(h, Array.from({ length: 12 }, (_, i) => `inst-${i}`))
  await h.req('POST', '/api/events/websocket/inst-0', { body: { enabled: true, events: ['instance.state'] } })
  dir = tempDir()
  port = await freePort()
  const site = fill(fill(EXAMPLE, 'listen 80;', `listen 127.0.0.1:${port};`), 'server 127.0.0.1:8080;', `server 127.0.0.1:${h.port};`)
  writeFileSync(join(dir, 'statushub.conf'), site)
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t))
  // The main file is the test's own (no daemon, files in the temp dir); the site is the README's.
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t === 'body' ? 'client_body' : t}_temp_path ${dir}/${t};`),
      `  include ${dir}/statushub.conf;`,
      '}',
      '',
    ].join('\n'),
  )
  nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] })
  nginx.stdout!.on('data', (d) => (nginxLog += d))
  nginx.stderr!.on('data', (d) => (nginxLog += d))
  await until(
    async () => {
      if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${nginxLog}`)
      return fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false)
    },
    { what: 'nginx to proxy /healthz', ms: 10_000, detail: () => nginxLog },
  )
}, 30_000)

afterAll(async () => {
  if (nginx !== undefined && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx.once('exit', r))
    nginx.kill('SIGTERM')
    await exited
  }
  await h?.stop()
})

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function via(p: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p, path, method, headers: { token: h.token, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('behind nginx (docs/nginx.conf)', () => {
  it('is the configuration the README shows, verbatim', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    expect(readme).toContain('```nginx\n' + EXAMPLE + '```')
  })

  it('serves both lists with the hub’s bytes and headers, and 304 on If-None-Match', async () => {
    for (const path of ['/api/instance/list', '/api/v1/instance/list?instanceName=inst-1,inst-2']) {
      const direct = await via(h.port, path)
      const proxied = await via(port, path)
      expect(proxied.status).toBe(200)
      expect(proxied.body.equals(direct.body)).toBe(true)
      for (const name of ['etag', 'x-hub-epoch', 'x-hub-seq', 'vary', 'content-type']) expect(proxied.headers[name]).toBe(direct.headers[name])
      expect(proxied.headers['x-ratelimit-limit']).toBe('100000')
      const again = await via(port, path, { 'if-none-match': String(proxied.headers.etag) })
      expect(again.status).toBe(304)
      expect(again.body.length).toBe(0)
    }
  })

  it('passes the hub’s compressed bodies through, and answers HEAD', async () => {
    const plain = await via(port, '/api/instance/list')
    const gz = await via(port, '/api/instance/list', { 'accept-encoding': 'gzip' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true)
    expect(gz.headers.etag).toBe(`${String(plain.headers.etag).slice(0, -1)}-gzip"`)
    const head = await via(port, '/api/instance/list', {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers.etag).toBe(plain.headers.etag)
  })

  it('upgrades /ws, with the proxy’s own origin, and streams a change', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token: h.token, origin: `http://127.0.0.1:${port}` } })
    const frames: any[] = []
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())))
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    ws.send(JSON.stringify({ type: 'subscribe', id: '1', instances: ['inst-3'] }))
    await until(() => frames.length === 1, 'the snapshot through nginx')
    expect(frames[0]).toMatchObject({ type: 'snapshot', id: '1', recovered: false, instances: [{ name: 'inst-3' }] })
    h.hub.updateStatus(instanceId(h, 'inst-3'), { state: 'connecting', displayStatus: 'Connecting…' })
    await until(() => frames.length === 2, 'the diff through nginx')
    expect(frames[1]).toMatchObject({ type: 'diff', instance: 'inst-3', seq: frames[0].seq + 1, changes: { 'connection.state': 'connecting' } })
    ws.close()
  })

  it('upgrades /ws/:instance, and passes the hub’s 403 for a foreign origin', async () => {
    const ryze = new WebSocket(`ws://127.0.0.1:${port}/ws/inst-0`, { headers: { token: h.token } })
    const first = await new Promise<any>((resolve, reject) => {
      ryze.once('message', (d) => resolve(JSON.parse(d.toString())))
      ryze.once('error', reject)
    })
    expect(first).toMatchObject({ event: 'instance.state', instanceData: { instance: 'inst-0' } })
    ryze.close()
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token: h.token, origin: 'https://elsewhere.example' } })
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.once('open', () => reject(new Error('a foreign origin was upgraded')))
    })
    expect(refused).toBe(403)
  })

  it('passes SSE events on as they happen, not when a buffer fills', async () => {
    const ac = new AbortController()
    const r = await fetch(`http://127.0.0.1:${port}/api/instance/stream?instanceName=inst-5`, { headers: { token: h.token }, signal: ac.signal })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/event-stream')
    const reader = r.body!.getReader()
    let text = ''
    const read = async (what: string) => {
      while (!text.includes(what)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`the stream ended before ${what}`)
        text += Buffer.from(value).toString()
      }
    }
    await read('event: snapshot')
    // One small event, far below any proxy buffer: it arrives only if nothing holds it back.
    h.hub.updateStatus(instanceId(h, 'inst-5'), { presenceStatus: 'available' })
    await read('event: diff')
    expect(text).toMatch(/event: diff\ndata: \{"type":"diff".*"instance":"inst-5".*"connection.presenceStatus":"available"/)
    ac.abort()
  })
})
