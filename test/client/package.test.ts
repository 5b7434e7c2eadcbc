/**
 * The client as a user gets it: `npm run build`, `npm pack ./packages/client`, the tarball installed
 * offline (no registry: only loopback) into a fresh project, a consumer type-checked by a strict tsc
 * (`strict`, `noPropertyAccessFromIndexSignature`, `exactOptionalPropertyTypes`) and run by plain
 * Node against a real hub.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'

const ROOT = join(import.meta.dirname, '..', '..')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
/** npm with no reachable registry: anything it would fetch fails instead of leaving the machine. */
const NPM_ENV = {
  ...process.env,
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_cache: join(tempDir(), 'npm-cache'),
}

let h: TestHub
let work: string
let tarball: string
beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, ['sales', 'support'])
  work = tempDir()
})
afterAll(() => h.stop())

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: NPM_ENV, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`)
  return r
}

const STRICT = {
  strict: true,
  noPropertyAccessFromIndexSignature: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  target: 'ES2022',
  types: [],
}

describe('@statushub/client, packed and installed', () => {
  it('packs only its bundle, its declarations and its README, with no dependencies', () => {
    run('npm', ['run', 'build'], ROOT)
    const packed = JSON.parse(run('npm', ['pack', join(ROOT, 'packages', 'client'), '--pack-destination', work, '--json'], ROOT).stdout)[0]
    tarball = join(work, packed.filename)
    expect(packed.name).toBe('@statushub/client')
    const files = (packed.files as { path: string }[]).map((f) => f.path).sort()
    expect(files).toEqual([
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/types/client/backoff.d.ts',
      'dist/types/client/close-codes.d.ts',
      'dist/types/client/events.d.ts',
      'dist/types/client/frames.d.ts',
      'dist/types/client/index.d.ts',
      'dist/types/client/mirror.d.ts',
      'dist/types/client/status-client.d.ts',
      'dist/types/core/integrations.d.ts',
      'dist/types/core/item.d.ts',
      'dist/types/core/status.d.ts',
      'dist/types/protocol/close-codes.d.ts',
      'package.json',
    ])
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', 'client', 'package.json'), 'utf8'))
    expect(manifest.dependencies ?? {}).toEqual({})
    expect(manifest.peerDependencies ?? {}).toEqual({})
    // The bundle imports nothing: no bare specifier, no relative file outside itself.
    expect(readFileSync(join(ROOT, 'packages', 'client', 'dist', 'index.js'), 'utf8')).not.toMatch(/^\s*import\s|\bimport\(|\brequire\(/m)
    const readme = readFileSync(join(ROOT, 'packages', 'client', 'README.md'), 'utf8')
    expect(readme).toContain("es.addEventListener('diff', (e) => {")
  }, 120_000)

  it('installs offline into a fresh project, passes a strict tsc, and mirrors a real hub from plain Node', async () => {
    const app = join(work, 'app')
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app)
    expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['@statushub'])
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies['@statushub/client']).toMatch(/^file:/)

    writeFileSync(
      join(app, 'consumer.ts'),
      `import { StatusClient, CLOSE, type ChangeBatch, type InstanceItem, type StatusClientOptions } from '@statushub/client'

const options: StatusClientOptions = { url: 'ws://127.0.0.1:${h.port}/ws', token: '${h.token}', instances: '*', mode: 'ordered', backoff: { baseMs: 100 } }
const client = new StatusClient(options)
const states: string[] = []
const batches: ChangeBatch[] = []
const timer = setTimeout(() => {
  throw new Error('no snapshot within 10 s')
}, 10_000)
client.on('state', (e) => states.push(e.state))
client.onChange((b) => batches.push(b))
client.on('snapshot', () => {
  const items: InstanceItem[] = [...client.mirror.values()]
  const first = items[0]
  console.log(JSON.stringify({
    names: items.map((i) => i.name),
    state: first === undefined ? null : first.connection.state,
    recovered: client.lastRecovered,
    position: client.position === null ? null : client.position.seq,
    tooBig: CLOSE.tooBig,
  }))
  clearTimeout(timer)
  client.stop()
})
client.start()
`,
    )
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...STRICT, lib: ['ES2022', 'DOM'], outDir: 'out', rootDir: '.' }, files: ['consumer.ts'] }),
    )
    // The declarations alone, with neither DOM nor Node types: nothing in them needs a platform.
    writeFileSync(
      join(app, 'types-only.ts'),
      `import { StatusClient, closeAction, retryDelay, DEFAULT_BACKOFF, type ClientEvent, type InstanceItem, type Position, type SocketConstructor, type StatusClientOptions } from '@statushub/client'
export const make = (WebSocket: SocketConstructor): StatusClient => new StatusClient({ url: 'ws://hub/ws', token: 't', instances: ['sales'], WebSocket })
export const reason = (i: InstanceItem): string | null => (i.connection.reason === null ? null : i.connection.reason.name)
export const names = (e: ClientEvent): string => e.type
export const since = (p: Position): number => p.seq
export const later = (): number => retryDelay(3, DEFAULT_BACKOFF, () => 0.5)
export const action = closeAction(4008, null)
// exactOptionalPropertyTypes: an optional option is left out, never set to undefined.
export const partial: StatusClientOptions = { url: 'ws://hub/ws', token: 't' }
`,
    )
    writeFileSync(join(app, 'tsconfig.types.json'), JSON.stringify({ compilerOptions: { ...STRICT, lib: ['ES2022'], noEmit: true }, files: ['types-only.ts'] }))

    const tsc = (project: string) => spawnSync(process.execPath, [TSC, '-p', join(app, project)], { cwd: app, encoding: 'utf8' })
    const strict = tsc('tsconfig.json')
    expect(strict.stdout + strict.stderr).toBe('')
    expect(strict.status).toBe(0)
    const bare = tsc('tsconfig.types.json')
    expect(bare.stdout + bare.stderr).toBe('')
    expect(bare.status).toBe(0)

    // Node 20 has a global WebSocket behind this flag; Node 22 has it by default.
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', join(app, 'out', 'consumer.js')], { cwd: app })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise((resolve) => child.on('exit', resolve))
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(out)).toEqual({ names: ['sales', 'support'], state: 'disconnected', recovered: false, position: h.hub.accountNamed('default')!.seq, tooBig: 1009 })
  }, 120_000)
})
