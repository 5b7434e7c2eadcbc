/**
 * The layering of src/ (.dependency-cruiser.cjs): sources → core → hub → bus → edges, adapters
 * behind ports, app/ composing. Checked on the real tree, and shown to catch an arrow against the
 * flow on a scratch tree.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser'
import { describe, expect, it } from 'vitest'
import { tempDir } from './helpers/hub.js'

const ROOT = join(import.meta.dirname, '..')
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration

async function violations(baseDir: string): Promise<string[]> {
  const r = await cruise(['src'], { ...config.options, baseDir, ruleSet: { forbidden: config.forbidden }, validate: true })
  const out = r.output as ICruiseResult
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)
}

describe('the layering of src/', () => {
  it('has no import against the flow', async () => {
    expect(await violations(ROOT)).toEqual([])
  }, 60_000)

  it('reports a core module that imports the hub, an edge that imports an adapter, and adapters reaching into each other past the links allowed', async () => {
    const dir = tempDir()
    for (const d of ['core', 'hub', 'edges', 'adapters', 'adapters/memory', 'adapters/sqlite', 'adapters/baileys', 'adapters/simulated']) mkdirSync(join(dir, 'src', d), { recursive: true })
    writeFileSync(join(dir, 'src/hub/hub.ts'), 'export const hub = 1\n')
    writeFileSync(join(dir, 'src/adapters/store.ts'), 'export const store = 1\n')
    writeFileSync(join(dir, 'src/core/status.ts'), "import { hub } from '../hub/hub.ts'\nexport const s = hub\n")
    writeFileSync(join(dir, 'src/edges/list.ts'), "import { store } from '../adapters/store.ts'\nexport const l = store\n")
    writeFileSync(join(dir, 'src/adapters/sqlite/db.ts'), 'export const db = 1\n')
    writeFileSync(join(dir, 'src/adapters/memory/store.ts'), "import { db } from '../sqlite/db.ts'\nexport const m = db\n")
    writeFileSync(join(dir, 'src/adapters/baileys/socket-adapter.ts'), 'export const adapt = 1\n')
    writeFileSync(join(dir, 'src/adapters/baileys/socket-factory.ts'), 'export const factory = 1\n')
    writeFileSync(join(dir, 'src/adapters/simulated/simulator.ts'), "import { adapt } from '../baileys/socket-adapter.ts'\nimport { factory } from '../baileys/socket-factory.ts'\nexport const s = adapt + factory\n")
    expect((await violations(dir)).sort()).toEqual([
      'adapters-stay-apart: src/adapters/memory/store.ts → src/adapters/sqlite/db.ts',
      'core-is-pure: src/core/status.ts → src/hub/hub.ts',
      'edges-read-the-hub-and-the-bus: src/edges/list.ts → src/adapters/store.ts',
      'the-simulator-drives-the-baileys-adapter: src/adapters/simulated/simulator.ts → src/adapters/baileys/socket-factory.ts',
    ])
  }, 60_000)
})
