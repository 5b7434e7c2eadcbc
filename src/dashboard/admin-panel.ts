/**
 * @module What a person signed in with the admin token sees: the cluster (epoch, the readiness of
 * the node serving the page, and per node its roles, the instances it drives, the accounts it
 * writes and when it was last seen) and the accounts with their instance counts. The admin token
 * reaches no instance, so there is no instance list here: it says to sign in with an account's
 * token for that. Refreshed on demand and every REFRESH_MS.
 */
import type { Api } from './api.js'
import { fetchAccounts, fetchCluster, fetchReadiness, readinessText, rolesText, type Account, type Cluster, type Readiness } from './cluster.js'
import { button, el, setText } from './dom.js'
import { whenText } from './format.js'

export const REFRESH_MS = 10_000

const number = new Intl.NumberFormat('en-US')

const NODE_COLUMNS = ['Node', 'Roles', 'Instances driven', 'Accounts written', 'Last seen'] as const
const ACCOUNT_COLUMNS = ['ID', 'Name', 'Instances', 'Limit', 'Created'] as const

export class AdminPanel {
  private readonly epoch: HTMLElement
  private readonly readiness: HTMLElement
  private readonly nodeCount: HTMLElement
  private readonly nodes: HTMLTableSectionElement
  private readonly accounts: HTMLTableSectionElement
  private readonly status: HTMLElement
  private readonly refresh: HTMLButtonElement
  private readonly timer: ReturnType<typeof setInterval>
  private request = 0
  /** Answers rendered so far; published as the panel's `data-loaded` for tests and debugging. */
  private loaded = 0

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
  ) {
    const bar = el('div', 'admin-bar')
    const who = el('p', 'who', "Signed in with the admin token: it manages accounts and reads the cluster. An account's instances are listed when you sign in with that account's token.")
    this.refresh = button('Refresh', 'refresh-admin')
    this.refresh.setAttribute('aria-label', 'Refresh cluster and accounts')
    this.refresh.addEventListener('click', () => this.load())
    this.status = el('p', 'admin-status')
    this.status.setAttribute('role', 'status')
    bar.append(who, this.refresh, this.status)

    const cluster = el('section', 'cluster')
    cluster.setAttribute('aria-labelledby', 'cluster-title')
    const ch = el('h2', '', 'Cluster')
    ch.id = 'cluster-title'
    const facts = el('dl', 'facts')
    this.epoch = el('dd')
    this.epoch.dataset.field = 'epoch'
    this.readiness = el('dd')
    this.readiness.dataset.field = 'readiness'
    this.nodeCount = el('dd')
    this.nodeCount.dataset.field = 'nodes'
    facts.append(
      el('dt', '', 'Epoch'),
      this.epoch,
      el('dt', '', 'Serving this page'),
      this.readiness,
      el('dt', '', 'Nodes'),
      this.nodeCount,
    )
    const nodes = table('nodes', 'Nodes and the leases they hold', NODE_COLUMNS)
    this.nodes = nodes.body
    cluster.append(ch, facts, nodes.table)

    const accounts = el('section', 'accounts')
    accounts.setAttribute('aria-labelledby', 'accounts-title')
    const ah = el('h2', '', 'Accounts')
    ah.id = 'accounts-title'
    const list = table('accounts-table', 'Accounts and their instances', ACCOUNT_COLUMNS)
    this.accounts = list.body
    accounts.append(ah, list.table)

    root.replaceChildren(bar, cluster, accounts)
    root.dataset.state = 'loading'
    this.timer = setInterval(() => this.load(), REFRESH_MS)
    this.load()
  }

  dispose(): void {
    clearInterval(this.timer)
    this.request++
    this.root.replaceChildren()
    delete this.root.dataset.state
    delete this.root.dataset.loaded
  }

  private load(): void {
    const mine = ++this.request
    this.refresh.disabled = true
    Promise.all([fetchCluster(this.api), fetchReadiness(this.api), fetchAccounts(this.api)])
      .then(([cluster, ready, accounts]) => {
        if (mine !== this.request) return
        this.render(cluster, ready, accounts)
        setText(this.status, '')
        this.root.dataset.state = 'shown'
        this.root.dataset.loaded = String(++this.loaded)
      })
      .catch((err) => {
        if (mine !== this.request) return
        this.root.dataset.state = 'error'
        setText(this.status, `The cluster could not be read: ${err instanceof Error ? err.message : String(err)}`)
      })
      .finally(() => {
        if (mine === this.request) this.refresh.disabled = false
      })
  }

  private render(c: Cluster, ready: Readiness, accounts: readonly Account[]): void {
    const now = Date.now()
    setText(this.epoch, c.epoch)
    setText(this.readiness, readinessText(ready))
    this.readiness.dataset.ready = String(ready.ready)
    setText(this.nodeCount, String(c.nodes.length))
    this.nodes.replaceChildren(
      ...c.nodes.map((n) => {
        const tr = el('tr')
        tr.dataset.node = n.id
        const seen = el('td', 'seen')
        const t = el('time', '', whenText(n.lastSeenAt, now))
        t.dateTime = n.lastSeenAt
        seen.append(t)
        const id = el('th', 'id', n.id)
        id.scope = 'row'
        tr.append(id, el('td', 'roles', rolesText(n.roles)), el('td', 'instances', number.format(n.instances)), el('td', 'accounts', number.format(n.accounts)), seen)
        return tr
      }),
    )
    this.accounts.replaceChildren(
      ...accounts.map((a) => {
        const tr = el('tr')
        tr.dataset.account = String(a.id)
        const created = el('td', 'created')
        const t = el('time', '', whenText(a.createdAt, now))
        t.dateTime = a.createdAt
        created.append(t)
        const name = el('th', 'name', a.name)
        name.scope = 'row'
        tr.append(el('td', 'id', String(a.id)), name, el('td', 'instances', number.format(a.instances)), el('td', 'limit', number.format(a.instanceLimit)), created)
        return tr
      }),
    )
  }
}

function table(className: string, caption: string, columns: readonly string[]): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const t = el('table', `admin-table ${className}`)
  const head = el('thead')
  const tr = el('tr')
  for (const c of columns) {
    const th = el('th', '', c)
    th.scope = 'col'
    tr.append(th)
  }
  head.append(tr)
  const body = el('tbody')
  t.append(el('caption', '', caption), head, body)
  return { table: t, body }
}
