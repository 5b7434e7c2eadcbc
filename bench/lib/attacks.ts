/**
 * @module One tenant's attacks from issue 14, each run at that tenant's limits for a bounded
 * time over the public API on 127.0.0.1, recording how the hub answered each attempt. Shared by
 * the noisy-neighbour test (test/isolation/noisy-neighbour.test.ts), which asserts that every
 * answer is one of the limits, and the bench's `noisy` scenario (bench/noisy.ts), which measures
 * what the attack costs another tenant. Nothing here reads the hub's internals: an attacker has a
 * token of its own account and nothing else.
 */
import { connect, type Socket } from 'node:net'
import WebSocket from 'ws'
import { throttledRelay } from './relay.js'

/**
 * The hub settings the attacks are sized for: a ring shorter than the attacker's change log
 * (every resume from its start reads SQLite), a socket buffer bound a never-read snapshot passes
 * at once, budgets the attacks exceed, and a per-address limit the token guesses exceed. The
 * per-token rate limit is lifted: it is not a per-account budget, and the victim polls too.
 */
export const NOISY_HUB_ENV: Record<string, string> = {
  HUB_STREAM_RING_SIZE: '200',
  HUB_WS_MAX_BUFFER_BYTES: String(128 * 1024),
  HUB_LIST_CACHE_BYTES: String(16 * 1024 * 1024),
  HUB_ACCOUNT_DEEP_RESUMES_PER_SEC: '2',
  HUB_ACCOUNT_SNAPSHOT_BYTES_PER_SEC: String(32 * 1024 * 1024),
  HUB_ACCOUNT_RENDER_BYTES_PER_SEC: String(2 * 1024 * 1024),
  HUB_UNAUTH_RATE_LIMIT_PER_MIN: '20',
  HUB_RATE_LIMIT_PER_MIN: '10000000',
  HUB_CREATE_RATE_LIMIT_PER_MIN: '10000000',
}

/** Subscribes a never-reading socket sends: 1 answered, 8 waiting, 64 refusals waiting behind the open snapshot, and the one past them. */
export const NEVER_READING_SUBSCRIBES = 80

/** The answers each attack may get; anything else is a failure of the limits. */
export const LIMIT_ANSWERS = {
  deepResume: ['resumed', 'close 4029 too many deep resumes for this account: retry later'],
  sseDeepResume: ['200 resumed', '429 Rate limit exceeded. Try again later.'],
  // Whichever bound it meets first: its unsent answers' bytes, or the small answers it leaves unread.
  neverReading: ['close 4008 slow consumer', 'close 4008 not reading its answers'],
  slowSnapshot: ['snapshot'],
  snapshotFlood: ['snapshot', 'close 4029 too many snapshots for this account: retry later'],
  listFilters: ['200', '429 Rate limit exceeded. Try again later.'],
  renderFlood: ['200', '429 Rate limit exceeded. Try again later.'],
  malformedLength: ['dropped unanswered'],
  tokenGuess: ['400 Invalid field "token": choose another token of 32–128 printable characters', '429 Rate limit exceeded. Try again later.'],
  changes: ['200'],
} as const

export type AttackName = keyof typeof LIMIT_ANSWERS
/** How often each answer came, per attack. */
export type AttackReport = Record<AttackName, Record<string, number>>

export interface Attacker {
  port: number
  token: string
  epoch: string
  /** The account's seq before its instances were created: a resume from it replays all of them from the change log. */
  deepSeq: number
  names: string[]
  /** Bytes of the account's whole list (about its `*` snapshot). */
  listBytes: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
/** An answer the hub owes: past `ms` it is recorded as missing, so no attacker waits forever. */
const ANSWER_MS = 30_000
const within = (p: Promise<string>, ms = ANSWER_MS) => Promise.race([p, sleep(ms).then(() => `no answer in ${ms} ms`)])

async function json(port: number, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  let parsed: any = null
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = { unparsed: text.slice(0, 200) }
  }
  return { status: r.status, json: parsed, headers: r.headers }
}

/**
 * Instances whose list items are large (about 8 KB: long integration fields),
 * so a few hundred make a snapshot bigger than what the kernel's loopback buffers absorb (~4 MB).
 */
function paddedInstance(name: string, i: number): Record<string, unknown> {
  const pad = (n: number) => `${i}-${'x'.repeat(n)}`.slice(0, n)
  // Stored and listed, never used: the instances never connect, and the hosts are on .invalid.
  return {
    name,
    callRejectMessage: pad(1000),
    proxyEnabled: true,
    proxyHost: `${pad(200)}.invalid`,
    proxyPort: 3128,
    proxyUsername: pad(250),
    chatwootEnabled: false,
    chatwootBaseUrl: `https://chat.invalid/${pad(1900)}`,
    chatwootInboxName: pad(250),
    chatwootApiToken: pad(500),
    s3Enabled: true,
    s3Region: pad(60),
    s3Bucket: pad(250),
    s3AccessKey: pad(250),
    s3SecretKey: pad(250),
    s3Endpoint: `https://s3.invalid/${pad(1900)}`,
    s3PathPrefix: pad(250),
  }
}

/** Creates the attacking account (through the admin API) with `instances` large instances. */
export async function prepareAttacker(port: number, adminToken: string, o: { instances: number; name?: string }): Promise<Attacker> {
  const account = await json(port, 'POST', '/api/admin/accounts', adminToken, { name: o.name ?? 'attacker', instanceLimit: o.instances + 100 })
  if (account.status !== 201) throw new Error(`create the attacking account: ${account.status} ${JSON.stringify(account.json)}`)
  const token = account.json.token as string
  const empty = await json(port, 'GET', '/api/instance/list', token)
  const deepSeq = Number(empty.headers.get('x-hub-seq'))
  const names = Array.from({ length: o.instances }, (_, i) => `a${String(i).padStart(5, '0')}`)
  let next = 0
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < names.length) {
        const i = next++
        const r = await json(port, 'POST', '/api/instance/new', token, paddedInstance(names[i]!, i))
        if (r.status !== 201) throw new Error(`create ${names[i]}: ${r.status} ${JSON.stringify(r.json)}`)
      }
    }),
  )
  const r = await fetch(`http://127.0.0.1:${port}/api/instance/list`, { headers: { token } })
  const listBytes = (await r.arrayBuffer()).byteLength
  return { port, token, epoch: r.headers.get('x-hub-epoch') ?? '', deepSeq, names, listBytes }
}

interface Opened {
  ws: WebSocket
  closed: Promise<string>
  isClosed(): boolean
}

function openWs(port: number, token: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { token }, maxPayload: 256 * 1024 * 1024 })
    let done = false
    const closed = new Promise<string>((r) =>
      ws.on('close', (code, reason) => {
        done = true
        r(`close ${code} ${reason.toString()}`)
      }),
    )
    ws.on('error', () => {})
    ws.once('open', () => resolve({ ws, closed, isClosed: () => done }))
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
  })
}

/** The first message's `type` (read from its first bytes: a snapshot may be megabytes), or the close. */
function firstAnswer(o: Opened): Promise<string> {
  return Promise.race([
    new Promise<string>((r) => o.ws.once('message', (d: Buffer) => r(/^\{"type":"([a-z]+)"/.exec(d.subarray(0, 40).toString('latin1'))?.[1] ?? 'unreadable'))),
    o.closed,
  ])
}


/** Writes one raw request on a fresh connection; resolves with everything the hub sent before closing (null: it kept the connection open). */
function exchange(port: number, raw: string): Promise<string | null> {
  return new Promise((resolve) => {
    let got = ''
    const s = connect(port, '127.0.0.1', () => s.write(raw))
    const t = setTimeout(() => (resolve(null), s.destroy()), ANSWER_MS)
    const done = () => (clearTimeout(t), resolve(got))
    s.on('data', (d) => (got += d))
    s.on('close', done)
    s.on('error', done)
  })
}

export interface AttackOptions {
  ms: number
  /** Tokens to try as custom instance tokens: another tenant's, the admin's. */
  guesses: string[]
  /** Bytes per second the slow reader takes its snapshot at. */
  slowReadRate?: number
  /** The snapshot flood starts this long after the never-reading sockets and the slow reader asked for theirs. */
  floodDelayMs?: number
}

/**
 * Runs every attack at once for `ms` and reports each attack's answers. The never-reading sockets
 * send all their subscribes (about 4 s), then read until the hub closes them (at most 2 s past the
 * deadline); the slow reader waits for its snapshot at most 10 s past it.
 */
export async function runAttacks(a: Attacker, o: AttackOptions): Promise<AttackReport> {
  const report = Object.fromEntries(Object.keys(LIMIT_ANSWERS).map((k) => [k, {}])) as AttackReport
  const seen = (attack: AttackName, answer: string) => {
    const r = report[attack]
    r[answer] = (r[answer] ?? 0) + 1
  }
  const start = Date.now()
  const deadline = start + o.ms
  const running = () => Date.now() < deadline
  /** `n` loops of `once` until the deadline, `gapMs` apart. */
  const loop = (attack: AttackName, n: number, gapMs: number, once: (k: number) => Promise<string>) =>
    Array.from({ length: n }, async () => {
      for (let k = 0; running(); k++) {
        seen(attack, await once(k).catch((err: Error) => `failed: ${err.message}`))
        if (gapMs > 0) await sleep(gapMs)
      }
    })
  const text = async (r: Response) => {
    const body = (await r.json().catch(() => null)) as { error?: { message?: string } } | null
    return r.status === 200 ? '200' : `${r.status} ${body?.error?.message ?? ''}`
  }

  // Deep resumes: a subscribe from before every instance was created, which the ring cannot serve.
  const deep = loop('deepResume', 2, 20, async () => {
    const s = await openWs(a.port, a.token)
    s.ws.send(JSON.stringify({ type: 'subscribe', id: 'deep', instances: '*', since: { epoch: a.epoch, seq: a.deepSeq } }))
    const answer = await within(firstAnswer(s))
    s.ws.terminate()
    return answer
  })
  // The same over SSE: `Last-Event-ID: <epoch>:0`.
  const sse = loop('sseDeepResume', 1, 50, async () => {
    const r = await fetch(`http://127.0.0.1:${a.port}/api/instance/stream`, { headers: { token: a.token, 'last-event-id': `${a.epoch}:0` } })
    if (r.status !== 200) return text(r)
    const reader = r.body!.getReader()
    const first = async () => {
      let got = ''
      while (!/\nevent: (\w+)/.test(got)) {
        const chunk = await reader.read()
        if (chunk.done) break
        got += Buffer.from(chunk.value).toString('latin1')
      }
      return `200 ${/\nevent: (\w+)/.exec(got)?.[1] ?? 'ended'}`
    }
    const answer = await within(first())
    await reader.cancel()
    return answer
  })
  // The never-reading sockets and the slow reader ask first: within the snapshot budget, their
  // answers are sent, and the snapshot flood spends what is left of it.
  const asked: Promise<void>[] = []
  const ask = () => {
    let done!: () => void
    asked.push(new Promise<void>((r) => (done = r)))
    return () => done()
  }
  // Never-reading sockets that keep asking for the `*` snapshot, in bursts under the frame limit.
  const neverReading = Array.from({ length: 2 }, async (_, n) => {
    const first = ask()
    const s = await openWs(a.port, a.token).catch((err: Error) => (first(), Promise.reject(err)))
    const raw = (s.ws as unknown as { _socket: Socket })._socket
    raw.pause()
    for (let i = 0; i < NEVER_READING_SUBSCRIBES; ) {
      for (let j = 0; j < 20 && i < NEVER_READING_SUBSCRIBES; j++, i++) s.ws.send(JSON.stringify({ type: 'subscribe', id: `n${n}-${i}`, instances: '*' }))
      first()
      if (i < NEVER_READING_SUBSCRIBES) await sleep(1050)
    }
    await sleep(300)
    raw.resume()
    const end = await Promise.race([s.closed, sleep(Math.max(2000, deadline + 2000 - Date.now())).then(() => 'still open')])
    s.ws.terminate()
    seen('neverReading', end)
  })
  // A large `*` snapshot in ordered mode, read slowly; then its live changes until the deadline.
  const slow = (async () => {
    const first = ask()
    const relay = await throttledRelay(a.port, o.slowReadRate ?? 2 * 1024 * 1024)
    try {
      const s = await openWs(relay.port, a.token)
      s.ws.send(JSON.stringify({ type: 'subscribe', id: 'slow', instances: '*', mode: 'ordered' }))
      first()
      const answer = await Promise.race([firstAnswer(s), sleep(o.ms + 10_000).then(() => 'unfinished')])
      if (answer === 'snapshot') {
        while (running() && !s.isClosed()) await sleep(50)
      }
      seen('slowSnapshot', s.isClosed() ? (answer === 'snapshot' ? `snapshot, then ${await s.closed}` : await s.closed) : answer)
      s.ws.terminate()
    } finally {
      first()
      relay.close()
    }
  })()
  // Snapshots as fast as they are read, on fresh sockets: the snapshot budget.
  const flood = (async () => {
    await Promise.all(asked)
    await sleep(o.floodDelayMs ?? 1000)
    await Promise.all(
      loop('snapshotFlood', 1, 0, async () => {
        const s = await openWs(a.port, a.token)
        s.ws.send(JSON.stringify({ type: 'subscribe', id: 'flood', instances: '*' }))
        const answer = await within(firstAnswer(s))
        s.ws.terminate()
        return answer
      }),
    )
  })()
  // A new multi-name filter every time: each is a miss of the list cache and a render.
  let filter = 0
  const filters = loop('listFilters', 2, 0, async () => {
    const k = filter++
    const n = a.names.length
    const names = [a.names[k % n], a.names[(k * 7 + 1) % n], a.names[(k * 13 + 2) % n], `missing-${k}`].join(',')
    const r = await fetch(`http://127.0.0.1:${a.port}/api/instance/list?instanceName=${names}`, { headers: { token: a.token } })
    return text(r)
  })
  // The whole list, re-rendered after every change (the account's own changes keep it stale).
  const renders = loop('renderFlood', 1, 0, async () => {
    const r = await fetch(`http://127.0.0.1:${a.port}/api/instance/list`, { headers: { token: a.token } })
    if (r.status === 200) {
      await r.body?.cancel()
      return '200'
    }
    return text(r)
  })
  // Conflicting Content-Length headers with a request smuggled behind the body.
  const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
  const malformed = loop('malformedLength', 1, 20, async () => {
    const got = await exchange(a.port, `POST /api/instance/new HTTP/1.1\r\nHost: x\r\ntoken: ${a.token}\r\nContent-Length: 2\r\nContent-Length: 43\r\n\r\n{}${smuggled}`)
    if (got === null) return `kept open for ${ANSWER_MS} ms`
    return got === '' ? 'dropped unanswered' : `answered ${got.split('\r\n')[0]}`
  })
  // Custom instance tokens that are someone else's (or too short): a token-validity oracle if answered differently.
  const guesses = [...o.guesses, 'g'.repeat(31)]
  const guess = loop('tokenGuess', 1, 10, async (k) => {
    const r = await fetch(`http://127.0.0.1:${a.port}/api/instance/new`, {
      method: 'POST',
      headers: { token: a.token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `guess-${k}`, token: guesses[k % guesses.length] }),
    })
    return text(r)
  })
  // The account's own changes (settings writes), which keep its list and snapshot stale.
  const changes = loop('changes', 1, 10, async (k) => {
    const r = await fetch(`http://127.0.0.1:${a.port}/api/instance/settings/${a.names[k % a.names.length]}`, {
      method: 'POST',
      headers: { token: a.token, 'content-type': 'application/json' },
      body: JSON.stringify({ callRejectMessage: `${k} ${'c'.repeat(1000)}` }),
    })
    return text(r)
  })

  await Promise.all([...deep, ...sse, ...neverReading, slow, flood, ...filters, ...renders, ...malformed, ...guess, ...changes])
  return report
}

/** Answers outside the attack's limits (an empty list when every answer was a limit or a success). */
export function unexpectedAnswers(report: AttackReport): string[] {
  const out: string[] = []
  for (const [attack, answers] of Object.entries(report) as [AttackName, Record<string, number>][]) {
    const allowed: readonly string[] = LIMIT_ANSWERS[attack]
    for (const [answer, n] of Object.entries(answers)) if (!allowed.includes(answer)) out.push(`${attack}: ${n} × ${answer}`)
  }
  return out
}
