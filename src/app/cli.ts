/**
 * @module `npm run hub -- <command>`: account administration from the command line. It works on the
 * database directly, so it refuses while a hub runs on the same data dir (the running hub's
 * snapshot would not see the change); use the REST admin endpoints then. `backup` only reads, and
 * works while the hub runs. `cluster import` moves a stopped hub's data into an empty cluster.
 */
import pino from 'pino'
import { SqliteStore } from '../adapters/sqlite/store.js'
import { HubError } from '../core/errors.js'
import { hashToken, newToken } from '../hub/tokens.js'
import { createAccountBody } from '../protocol/rest-bodies.js'
import { backupDatabase } from './backup.js'
import { openHub, type OpenHub } from './compose.js'
import { ConfigError, loadConfig } from './config.js'

const USAGE = `usage: npm run hub -- <command>
  account create <name> [--limit N]   create an account; prints its token once
  account list                        list accounts
  account delete <id>                 delete an account and its instances
  account token <id>                  rotate an account's token; prints the new one
  admin token                         replace the admin token; prints the new one
  backup <file>                       write a consistent copy of the database (works while the hub runs)
  cluster import <data dir>           move an embedded hub's data into an empty cluster (HUB_NATS_URL,
                                      HUB_SECRET_KEY and HUB_LEASE_TTL_MS as the nodes have them)`

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
  let opened: OpenHub
  try {
    opened = openHub({ ...cfg, persistIntervalMs: 0, ringSize: 1 }, pino({ level: 'silent' }), undefined, false)
  } catch (err) {
    return { code: 1, out: `${(err as Error).message}\nUse the REST admin endpoints (POST /api/admin/accounts …) while the hub runs.` }
  }
  const { hub, first } = opened
  const lines: string[] = []
  try {
    if (first.adminToken !== null) lines.push(`Admin token (shown once): ${first.adminToken}`)
    if (first.defaultAccountToken !== null) lines.push(`Account "default" token (shown once): ${first.defaultAccountToken}`)
    const id = () => {
      const n = Number(rest[0])
      if (!Number.isInteger(n) || n <= 0) throw new HubError('invalid', 'an account id (a positive number) is required')
      return n
    }
    if (group === 'account' && action === 'create') {
      const li = rest.indexOf('--limit')
      const positional = li >= 0 ? [...rest.slice(0, li), ...rest.slice(li + 2)] : rest
      if (positional.length !== 1) throw new HubError('invalid', 'one name is required: account create <name> [--limit N]')
      const parsed = createAccountBody.safeParse({ name: positional[0], ...(li >= 0 ? { instanceLimit: Number(rest[li + 1]) } : {}) })
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new HubError('invalid', issue.path[0] === 'instanceLimit' ? '--limit must be a whole number from 0 to 1000000' : `invalid name: ${issue.message}`)
      }
      const { account, token } = hub.createAccount(parsed.data.name, parsed.data.instanceLimit)
      lines.push(`Account created: id ${account.id}, name ${account.name}, instance limit ${account.instanceLimit}`, `Token (shown once): ${token}`)
    } else if (group === 'account' && action === 'list') {
      for (const a of hub.accounts()) lines.push(`${a.id}\t${a.name}\tlimit ${a.instanceLimit}\t${a.ids.length} instances\tcreated ${a.createdAt}`)
      if (hub.accounts().length === 0) lines.push('no accounts')
    } else if (group === 'account' && action === 'delete') {
      hub.deleteAccount(id())
      lines.push('Account deleted')
    } else if (group === 'account' && action === 'token') {
      lines.push(`New token (shown once): ${hub.rotateAccountToken(id())}`)
    } else if (group === 'admin' && action === 'token') {
      if (cfg.adminToken !== undefined) throw new HubError('invalid', 'HUB_ADMIN_TOKEN is set: the admin token comes from the environment')
      const token = newToken()
      new SqliteStore(opened.db).setMeta('admin_token_hash', hashToken(token))
      lines.push(`New admin token (shown once): ${token}`)
    } else {
      return { code: 2, out: USAGE }
    }
    return { code: 0, out: lines.join('\n') }
  } catch (err) {
    if (err instanceof HubError) return { code: 1, out: [...lines, `error: ${err.message}`].join('\n') }
    throw err
  } finally {
    opened.close()
  }
}

/**
 * Every command; `backup` (SQLite's online backup runs in steps) and `cluster import` (it talks
 * to the engine) are asynchronous, the others run in runCli.
 */
export async function runCommand(argv: string[], env: Record<string, string | undefined> = process.env): Promise<{ code: number; out: string }> {
  if (argv[0] === 'cluster') {
    if (argv[1] !== 'import' || argv.length !== 3) return { code: 2, out: USAGE }
    // Loaded only for this command: the others never load the NATS clients.
    const { clusterImport } = await import('./cluster-import.js')
    return clusterImport(argv[2]!, env)
  }
  if (argv[0] !== 'backup') return runCli(argv, env)
  if (argv.length !== 2) return { code: 2, out: USAGE }
  let cfg
  try {
    cfg = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return { code: 2, out: err.message }
    throw err
  }
  return backupDatabase(cfg, argv[1]!)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code, out } = await runCommand(process.argv.slice(2))
  console.log(out)
  process.exit(code)
}
