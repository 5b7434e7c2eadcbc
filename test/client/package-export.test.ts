/**
 * The client as a user installs it: `statushub/client`, imported by plain Node (no TypeScript
 * loader) from the bundle that `npm install` builds, talking to a real hub.
 */
import { spawn, spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
beforeAll(async () => {
  h = await startTestHub()
  await createInstances(h, ['sales', 'support'])
})
afterAll(() => h.stop())

describe('statushub/client', () => {
  it('is built by `npm run build` and imported by plain Node, which mirrors the account', async () => {
    expect(spawnSync('npm', ['run', 'build'], { encoding: 'utf8' }).status).toBe(0)
    const script = `
      import { StatusClient } from 'statushub/client'
      import { WebSocket } from 'ws'
      const c = new StatusClient({ url: 'ws://127.0.0.1:${h.port}/ws', token: '${h.token}', instances: '*', WebSocket })
      c.on('snapshot', () => { console.log(JSON.stringify([...c.mirror.keys()])); c.stop(); process.exit(0) })
      c.start()
      setTimeout(() => process.exit(3), 10000)
    `
    // Not spawnSync: the hub runs in this process and must keep serving meanwhile.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script])
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise((r) => child.on('exit', r))
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(out)).toEqual(['sales', 'support'])
  })
})
