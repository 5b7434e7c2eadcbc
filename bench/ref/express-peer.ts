/**
 * @module REST reference (b): the peer-style baseline, shaped like Evolution API's
 * `fetchInstances`: Express 4, and on every request the instances are read from SQLite, mapped
 * to objects and serialised with `res.json` (Express's default weak ETag included). It is
 * generous to the peer: one table with the integration blocks as JSON columns (Evolution runs a
 * Prisma `findMany` with one query per included relation) and a constant-time token compare
 * instead of a database lookup.
 *
 * Environment: BENCH_ITEMS (a JSON file with the hub's list items), BENCH_TOKEN, BENCH_DB.
 */
import Database from 'better-sqlite3'
import express from 'express'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { sendFatal, sendReady, serveRequests } from '../lib/proc.js'

const BLOCKS = ['connection', 'profile', 'webhook', 'websocket', 'chatwoot', 'proxy', 'settings', 's3'] as const

interface Row {
  id: number
  name: string
  api_instance_name: string
  status: string
  created_at: string
  updated_at: string
  version: number
  [block: string]: unknown
}

async function main(): Promise<void> {
  const items = JSON.parse(readFileSync(process.env.BENCH_ITEMS!, 'utf8')) as Record<string, unknown>[]
  const token = process.env.BENCH_TOKEN!
  const db = new Database(process.env.BENCH_DB!)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE IF NOT EXISTS instance (
    id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, name TEXT NOT NULL, api_instance_name TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL,
    ${BLOCKS.map((b) => `${b} TEXT NOT NULL`).join(', ')})`)
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS instance_account_name ON instance (account_id, name)')
  const insert = db.prepare(
    `INSERT OR REPLACE INTO instance VALUES (@id, 1, @name, @apiInstanceName, @status, @createdAt, @updatedAt, @version, ${BLOCKS.map((b) => `@${b}`).join(', ')})`,
  )
  db.transaction(() => {
    for (const it of items) insert.run({ ...it, ...Object.fromEntries(BLOCKS.map((b) => [b, JSON.stringify(it[b])])) })
  })()
  const all = db.prepare('SELECT * FROM instance WHERE account_id = ? ORDER BY id')
  const byName = db.prepare('SELECT * FROM instance WHERE account_id = ? AND name = ? ORDER BY id')
  const toItem = (r: Row) => {
    const item: Record<string, unknown> = {
      id: r.id,
      name: r.name,
      apiInstanceName: r.api_instance_name,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      version: r.version,
    }
    for (const b of BLOCKS) item[b] = JSON.parse(r[b] as string)
    return item
  }

  const app = express()
  app.get('/api/instance/list', (req, res) => {
    if (req.get('token') !== token) {
      res.status(401).json({ success: false, error: { message: 'Invalid token' } })
      return
    }
    const name = typeof req.query.instanceName === 'string' ? req.query.instanceName : undefined
    const rows = (name === undefined ? all.all(1) : byName.all(1, name)) as Row[]
    const instances = rows.map(toItem)
    const n = instances.length
    res.json({ success: true, message: `${n} ${n === 1 ? 'Instance' : 'Instances'} found`, instances })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  serveRequests({
    exit() {
      server.close()
      db.close()
    },
  })
  sendReady({ port: (server.address() as AddressInfo).port })
}

main().catch(sendFatal)
