/**
 * @module `npm run hub -- <command>`: account administration from the command line. It works on the
 * database directly, so it refuses while a hub runs on the same data dir (the running hub's
 * snapshot would not see the change); use the REST admin endpoints then.
 */
import pino from 'pino'
import { openDb } from './adapters/sqlite/db.js'
import { SqliteStore } from './adapters/sqlite/store.js'
import { ConfigError, loadConfig } from './config.js'
import { HubError } from './core/errors.js'
import { systemClock } from './core/ports.js'
import { acquireLock } from './data-lock.js'
import { Hub } from './hub/hub.js'
import { hashToken, newToken } from './hub/tokens.js'
import { createAccountBody } from './protocol/rest-bodies.js'
import { dbPath } from './start.js'

const USAGE = `usage: npm run hub -- <command>
  account create <name> [--limit N]   create an account; prints its token once
  account list                        list accounts
  account delete <id>                 delete an account and its instances
  account token <id>                  rotate an account's token; prints the new one
  admin token                         replace the admin token; prints the new one`

export function runCli(argv: string[], env: Record<string, string | undefined> = process.env): { code: number; out: string } {
  const [group, action, ...rest] = argv
  if (group === undefined || group === 'help' || group === '--help') return { code: group === undefined ? 2 : 0, out: USAGE }
  let cfg
  try {
    cfg = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return { code: 2, out: err.message }
    throw err
  }
  let release: () => void
  try {
    release = acquireLock(cfg.dataDir)
  } catch (err) {
    return { code: 1, out: `${(err as Error).message}\nUse the REST admin endpoints (POST /api/admin/accounts …) while the hub runs.` }
  }
  const db = openDb(dbPath(cfg.dataDir))
  const hub = new Hub(
    new SqliteStore(db),
    { listCacheBytes: 1 << 20, persistIntervalMs: 0, ringSize: 1, changeLogMax: cfg.changeLogMax, changeLogMaxAgeS: cfg.changeLogMaxAgeS, adminToken: cfg.adminToken },
    systemClock,
    pino({ level: 'silent' }),
  )
  const lines: string[] = []
  try {
    const first = hub.start()
    if (first.adminToken !== null) lines.push(`Admin token (shown once): ${first.adminToken}`)
    if (first.defaultAccountToken !== null) lines.push(`Account "default" token (shown once): ${first.defaultAccountToken}`)
    const id = () => {
      const n = Number(rest[0])
      if (!Number.isInteger(n) || n <= 0) throw new HubError(400, 'an account id (a positive number) is required')
      return n
    }
    if (group === 'account' && action === 'create') {
      const li = rest.indexOf('--limit')
      const positional = li >= 0 ? [...rest.slice(0, li), ...rest.slice(li + 2)] : rest
      if (positional.length !== 1) throw new HubError(400, 'one name is required: account create <name> [--limit N]')
      const parsed = createAccountBody.safeParse({ name: positional[0], ...(li >= 0 ? { instanceLimit: Number(rest[li + 1]) } : {}) })
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new HubError(400, issue.path[0] === 'instanceLimit' ? '--limit must be a whole number from 0 to 1000000' : `invalid name: ${issue.message}`)
      }
      const { account, token } = hub.createAccount(parsed.data.name, parsed.data.instanceLimit)
      lines.push(`Account created: id ${account.id}, name ${account.name}, instance limit ${account.instanceLimit}`, `Token (shown once): ${token}`)
    } else if (group === 'account' && action === 'list') {
      for (const a of hub.listAccounts()) lines.push(`${a.id}\t${a.name}\tlimit ${a.instanceLimit}\t${a.ids.length} instances\tcreated ${a.createdAt}`)
      if (hub.listAccounts().length === 0) lines.push('no accounts')
    } else if (group === 'account' && action === 'delete') {
      hub.deleteAccount(id())
      lines.push('Account deleted')
    } else if (group === 'account' && action === 'token') {
      lines.push(`New token (shown once): ${hub.rotateAccountToken(id())}`)
    } else if (group === 'admin' && action === 'token') {
      if (cfg.adminToken !== undefined) throw new HubError(400, 'HUB_ADMIN_TOKEN is set: the admin token comes from the environment')
      const token = newToken()
      new SqliteStore(db).setMeta('admin_token_hash', hashToken(token))
      lines.push(`New admin token (shown once): ${token}`)
    } else {
      return { code: 2, out: USAGE }
    }
    return { code: 0, out: lines.join('\n') }
  } catch (err) {
    if (err instanceof HubError) return { code: 1, out: [...lines, `error: ${err.message}`].join('\n') }
    throw err
  } finally {
    hub.stop()
    db.close()
    release()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code, out } = runCli(process.argv.slice(2))
  console.log(out)
  process.exit(code)
}
