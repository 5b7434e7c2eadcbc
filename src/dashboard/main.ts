/**
 * @module Dashboard entry: sign-in (the token lives in sessionStorage, never in the page URL),
 * the stream through the package's own StatusClient, the view in the URL fragment (search,
 * filters, sort, cards or table, the open drawer), the reconnect banner, notices and the create
 * form. The admin token lists no instances (403 on the list); it gets the cluster and accounts
 * panel instead.
 */
import { StatusClient, type ClientEvent } from '../client/index.js'
import { AdminPanel } from './admin-panel.js'
import { ApiError, apiWith, type Api } from './api.js'
import { Board } from './board.js'
import { fetchCluster } from './cluster.js'
import { parseView, viewHash, type View } from './view-state.js'

const TOKEN_KEY = 'statushub.token'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const login = $<HTMLFormElement>('login')
const tokenInput = $<HTMLInputElement>('token')
const loginError = $('login-error')
const boardSection = $('board')
const counters = $('counters')
const instances = $('instances')
const banner = $('banner')
const notice = $('notice')
const signOut = $<HTMLButtonElement>('signout')
const createForm = $<HTMLFormElement>('create')
const newName = $<HTMLInputElement>('new-name')
const adminRoot = $('admin')

let session: { client: StatusClient; board: Board; api: Api } | null = null
let admin: AdminPanel | null = null
let bannerTimer: ReturnType<typeof setTimeout> | null = null
let noticeTimer: ReturnType<typeof setTimeout> | null = null

login.addEventListener('submit', (e) => {
  e.preventDefault()
  const token = tokenInput.value.trim()
  if (token !== '') void signIn(token)
})

signOut.addEventListener('click', () => end(''))

createForm.addEventListener('submit', (e) => {
  e.preventDefault()
  const name = newName.value.trim()
  if (session === null || name === '') return
  const button = createForm.querySelector('button')!
  button.disabled = true
  session
    .api('POST', '/api/instance/new', { name })
    .then((r) => {
      newName.value = ''
      const token = r.instance?.token
      notify('ok', `Create ${name}`, typeof token === 'string' ? `${r.message}. Instance token (shown once): ${token}` : r.message)
    })
    .catch((err) => notify('error', `Create ${name}`, err instanceof ApiError ? err.message : String(err)))
    .finally(() => (button.disabled = false))
})

async function signIn(token: string): Promise<void> {
  const api = apiWith(token)
  loginError.textContent = ''
  let asAdmin = false
  try {
    await api('GET', '/api/instance/list?instanceName=')
  } catch (err) {
    // A valid token that reaches no instance list: the admin token, if the cluster answers it.
    asAdmin = err instanceof ApiError && err.status === 403 && (await fetchCluster(api).then(() => true, () => false))
    if (!asAdmin) {
      sessionStorage.removeItem(TOKEN_KEY)
      loginError.textContent = err instanceof ApiError ? err.message : String(err)
      login.hidden = false
      tokenInput.focus()
      return
    }
  }
  sessionStorage.setItem(TOKEN_KEY, token)
  tokenInput.value = ''
  if (asAdmin) startAdmin(api)
  else start(token, api)
}

/** The admin token: the cluster and the accounts, no stream (it reaches no instance). */
function startAdmin(api: Api): void {
  admin = new AdminPanel(adminRoot, api)
  login.hidden = true
  adminRoot.hidden = false
  signOut.hidden = false
}

function start(token: string, api: Api): void {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const client = new StatusClient({
    url: `${scheme}://${location.host}/ws`,
    token,
    instances: '*',
    // One DOM pass per frame however many diffs arrive; none while the tab is hidden.
    schedule: (flush) => requestAnimationFrame(flush),
  })
  const board = new Board(
    {
      viewport: instances,
      drawerSlot: $('drawer-slot'),
      controls: {
        states: counters,
        reasons: $('reasons'),
        reasonBar: $('reason-bar'),
        search: $<HTMLInputElement>('search'),
        sort: $<HTMLSelectElement>('sort'),
        modes: $('modes'),
        shown: $('shown'),
        clear: $<HTMLButtonElement>('clear'),
      },
    },
    client,
    api,
    notify,
    parseView(location.hash),
    writeView,
  )
  session = { client, board, api }
  client.on('state', onState)
  client.on('error', (e) => notify('error', 'Stream', e.message))
  login.hidden = true
  boardSection.hidden = false
  counters.hidden = false
  createForm.hidden = false
  signOut.hidden = false
  client.start()
  // The simulator's buttons exist only when the hub runs simulated sockets.
  api('GET', '/api/sim/status').then(
    (r) => board.setSimulated(r.simulated === true),
    () => board.setSimulated(false),
  )
}

/** The view goes into the fragment without a history entry per keystroke; the token never does. */
function writeView(v: View): void {
  const hash = viewHash(v)
  if (hash === location.hash || (hash === '' && location.hash === '')) return
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`)
}

// A fragment edited by hand, or a link followed within the page.
addEventListener('hashchange', () => session?.board.setView(parseView(location.hash)))

/** Stops the stream and returns to the sign-in form, optionally saying why. */
function end(why: string): void {
  sessionStorage.removeItem(TOKEN_KEY)
  if (session !== null) {
    session.client.stop()
    session.board.dispose()
    session = null
  }
  admin?.dispose()
  admin = null
  adminRoot.hidden = true
  boardSection.hidden = true
  counters.hidden = true
  createForm.hidden = true
  signOut.hidden = true
  login.hidden = false
  loginError.textContent = why
  tokenInput.focus()
}

function onState(e: Extract<ClientEvent, { type: 'state' }>): void {
  if (bannerTimer !== null) clearTimeout(bannerTimer)
  bannerTimer = null
  if (e.state === 'reconnecting') {
    const wait = e.delayMs === null ? '' : ` in ${Math.ceil(e.delayMs / 1000)}s`
    showBanner('warn', `Stream lost (${e.reason}). Reconnecting${wait}, attempt ${e.attempt}…`)
  } else if (e.state === 'open' && e.previous === 'reconnecting') {
    const recovered = session?.client.lastRecovered === true
    banner.dataset.recovered = String(recovered)
    showBanner(
      'ok',
      recovered ? 'Reconnected: resumed from the last position, no change missed (recovered).' : 'Reconnected: the missed changes could not be replayed, so the full state was reloaded (not recovered).',
    )
    bannerTimer = setTimeout(() => (banner.hidden = true), 6000)
  } else if (e.state === 'open') {
    banner.hidden = true
  } else if (e.state === 'closed' && e.reason !== 'stopped') {
    end(`The stream stopped: ${e.reason}. Sign in again.`)
  }
}

function showBanner(kind: 'ok' | 'warn', text: string): void {
  banner.dataset.kind = kind
  banner.textContent = text
  banner.hidden = false
}

function notify(kind: 'ok' | 'error', context: string, message: string): void {
  if (noticeTimer !== null) clearTimeout(noticeTimer)
  noticeTimer = null
  notice.dataset.kind = kind
  notice.setAttribute('role', kind === 'error' ? 'alert' : 'status')
  const head = document.createElement('strong')
  head.textContent = `${context}: `
  const msg = document.createElement('span')
  msg.className = 'msg'
  msg.textContent = message
  const close = document.createElement('button')
  close.type = 'button'
  close.className = 'notice-close'
  close.textContent = 'Dismiss'
  close.addEventListener('click', () => (notice.hidden = true))
  notice.replaceChildren(head, msg, close)
  notice.hidden = false
  if (kind === 'ok') noticeTimer = setTimeout(() => (notice.hidden = true), 8000)
}

const saved = sessionStorage.getItem(TOKEN_KEY)
if (saved !== null) void signIn(saved)
else tokenInput.focus()
