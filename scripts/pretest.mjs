/**
 * `pretest` (npm runs it before `npm test`): the programs the suite drives that npm cannot
 * install. Missing ones are installed from Debian's packages when this runs as root with apt-get
 * (noninteractive, only what is missing); otherwise it prints the exact command to run and fails,
 * so a newcomer never gets a half-run suite.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Debian package → where its program lives, and what needs it. */
export const NEEDS = [
  { pkg: 'chromium', program: 'chromium', at: ['/usr/bin/chromium'], why: "the dashboard's end-to-end tests (playwright-core drives Debian's Chromium at /usr/bin/chromium)" },
  { pkg: 'nats-server', program: 'nats-server', at: ['/usr/sbin/nats-server', '/usr/bin/nats-server'], why: 'the cluster tests (a real NATS JetStream server on 127.0.0.1)' },
  { pkg: 'nginx', program: 'nginx', at: ['/usr/sbin/nginx', '/usr/bin/nginx'], why: 'the reverse-proxy tests (a real nginx in front of the hub on 127.0.0.1)' },
]

const ENV = 'DEBIAN_FRONTEND=noninteractive'

export function onPath(program, path = process.env.PATH ?? '') {
  return path.split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)))
}

/**
 * What to do, from what is there: `ok`, `install` (root with apt-get: the commands to run), or
 * `fail` (the message that says exactly what to run).
 */
export function plan({ present, isRoot, hasApt }) {
  const missing = NEEDS.filter((n) => !present(n))
  if (missing.length === 0) return { action: 'ok', missing }
  const pkgs = missing.map((n) => n.pkg)
  const install = ['apt-get', 'install', '-y', '-qq', ...pkgs]
  const lines = missing.map((n) => `  ${n.pkg}: needed by ${n.why}`)
  if (isRoot && hasApt) return { action: 'install', missing, commands: [['apt-get', 'update', '-qq'], install] }
  const fix = hasApt
    ? `Install them, then run npm test again:\n  sudo apt-get update && sudo ${ENV} apt-get install -y ${pkgs.join(' ')}`
    : `Install ${pkgs.join(', ')} with this system's package manager (the suite expects Debian's packages), then run npm test again.`
  return { action: 'fail', missing, message: `npm test needs programs that are not installed:\n${lines.join('\n')}\n${fix}` }
}

function present(n) {
  return n.at.some((p) => existsSync(p)) || onPath(n.program)
}

function main() {
  const hasApt = onPath('apt-get') || existsSync('/usr/bin/apt-get')
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const p = plan({ present, isRoot, hasApt })
  if (p.action === 'ok') return 0
  if (p.action === 'fail') {
    console.error(p.message)
    return 1
  }
  console.log(`pretest: installing ${p.missing.map((n) => n.pkg).join(', ')} (${ENV} apt-get)`)
  for (const [cmd, ...args] of p.commands) {
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    if (r.status !== 0) {
      console.error(`pretest: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`)
      return 1
    }
  }
  const still = p.missing.filter((n) => !present(n))
  if (still.length > 0) {
    console.error(`pretest: installed, but still not found: ${still.map((n) => `${n.program} (looked in ${n.at.join(', ')} and PATH)`).join('; ')}`)
    return 1
  }
  return 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main())
