/**
 * @module Accounts, managed with the admin token.
 */
import { HubError, MSG } from '../../../core/errors.js'
import type { Hub } from '../../../hub/hub.js'
import type { AccountView } from '../../../hub/model.js'
import { createAccountBody } from '../../../protocol/rest-bodies.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'
import { parseBody } from './parse.js'

export function accountView(a: AccountView) {
  return { id: a.id, name: a.name, instanceLimit: a.instanceLimit, instances: a.ids.length, createdAt: a.createdAt }
}

function accountId(raw: string): number {
  if (!/^\d{1,12}$/.test(raw)) throw new HubError('notFound', MSG.accountNotFound)
  return Number(raw)
}

export function adminRoutes(r: Router, hub: Hub): void {
  r.add('post', '/api/admin/accounts', { who: 'admin', body: true }, (ctx, _p, body) => {
    const b = parseBody(createAccountBody, body)
    const { account, token } = hub.createAccount(b.name, b.instanceLimit)
    sendOk(ctx, 'Account created', { account: { id: account.id, name: account.name, instanceLimit: account.instanceLimit }, token }, 201)
  })

  r.add('get', '/api/admin/accounts', { who: 'admin' }, (ctx) => {
    const list = hub.accounts().map(accountView)
    sendOk(ctx, `${list.length} ${list.length === 1 ? 'Account' : 'Accounts'} found`, { accounts: list })
  })

  r.add('del', '/api/admin/accounts/:id', { who: 'admin' }, (ctx) => {
    hub.deleteAccount(accountId(ctx.params[0]!))
    sendOk(ctx, 'Account deleted', { account: { status: 'deleted' } })
  })

  r.add('post', '/api/admin/accounts/:id/token', { who: 'admin' }, (ctx) => {
    const token = hub.rotateAccountToken(accountId(ctx.params[0]!))
    sendOk(ctx, 'Account token rotated', { token })
  })
}
