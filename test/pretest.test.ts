import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { NEEDS, plan } from '../scripts/pretest.mjs'

const none = () => false
const only = (...pkgs: string[]) => (n: { pkg: string }) => !pkgs.includes(n.pkg)

describe('pretest: what npm test needs beyond npm', () => {
  it('names Chromium, nats-server and nginx', () => {
    expect(NEEDS.map((n) => n.pkg)).toEqual(['chromium', 'nats-server', 'nginx'])
  })

  it('does nothing when everything is there', () => {
    expect(plan({ present: () => true, isRoot: false, hasApt: true })).toEqual({ action: 'ok', missing: [] })
  })

  it('installs only what is missing, noninteractively, when it runs as root with apt-get', () => {
    const p = plan({ present: only('nginx'), isRoot: true, hasApt: true })
    expect(p).toMatchObject({ action: 'install', commands: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'nginx']] })
  })

  it('fails as another user, printing the exact command to run', () => {
    const p = plan({ present: only('chromium', 'nats-server'), isRoot: false, hasApt: true })
    expect(p.action).toBe('fail')
    expect(p.action === 'fail' && p.message).toBe(
      [
        'npm test needs programs that are not installed:',
        "  chromium: needed by the dashboard's end-to-end tests (playwright-core drives Debian's Chromium at /usr/bin/chromium)",
        '  nats-server: needed by the cluster tests (a real NATS JetStream server on 127.0.0.1)',
        'Install them, then run npm test again:',
        '  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium nats-server',
      ].join('\n'),
    )
  })

  it('says what to install where there is no apt-get', () => {
    const p = plan({ present: none, isRoot: true, hasApt: false })
    expect(p.action === 'fail' && p.message.split('\n').at(-1)).toBe(
      "Install chromium, nats-server, nginx with this system's package manager (the suite expects Debian's packages), then run npm test again.",
    )
  })

  it('passes on this machine, where they are installed', () => {
    const r = spawnSync(process.execPath, ['scripts/pretest.mjs'], { encoding: 'utf8' })
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', ''])
  })
})
