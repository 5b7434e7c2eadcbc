/**
 * @module Accounts, managed with the admin token.
 */
import { HubError, MSG } from '../../../core/errors.js'
import type { Commands } from '../../../hub/commands.js'
import type { Hub } from '../../../hub/hub.js'
import type { AccountView } from '../../../hub/model.js'
import { createAccountBody } from '../../../protocol/rest-bodies.js'
import { accountCreated, accountDeleted, accountList, accountTokenRotated } from '../../../protocol/rest-responses.js'
import { sendOk } from '../http.js'
import type { Router } from '../route.js'

export function accountView(a: AccountView) {
  return { id: a.id, name: a.name, instanceLimit: a.instanceLimit, instances: a.ids.length, createdAt: a.createdAt }
}

function accountId(raw: string): number {
  if (!/^\d{1,12}$/.test(raw)) throw new HubError('notFound', MSG.accountNotFound)
  return Number(raw)
}

const tag = 'Accounts'

export function adminRoutes(r: Router, hub: Hub, commands: Commands): void {
  r.add(
    'post',
    '/api/admin/accounts',
    {
      tag,
      who: 'admin',
      description: 'Creates an account; its TokenAccount is in the answer, shown this once. `instanceLimit` defaults to 100.',
      body: createAccountBody,
      response: accountCreated,
      status: 201,
      errors: [409],
      example: { body: { name: 'acme', instanceLimit: 100 } },
    },
    async (ctx, _p, b) => {
      const { account, token } = await commands.createAccount(b.name, b.instanceLimit)
      sendOk(ctx, 'Account created', { account: { id: account.id, name: account.name, instanceLimit: account.instanceLimit }, token }, 201)
    },
  )

  r.add('get', '/api/admin/accounts', { tag, who: 'admin', description: 'Lists every account with its instance count.', response: accountList }, (ctx) => {
    const list = hub.accounts().map(accountView)
    sendOk(ctx, `${list.length} ${list.length === 1 ? 'Account' : 'Accounts'} found`, { accounts: list })
  })

  r.add(
    'del',
    '/api/admin/accounts/:id',
    {
      tag,
      who: 'admin',
      description: 'Deletes an account and all its instances; its streams close with 4001.',
      response: accountDeleted,
    },
    async (ctx) => {
      await commands.deleteAccount(accountId(ctx.params[0]!))
      sendOk(ctx, 'Account deleted', { account: { status: 'deleted' } })
    },
  )

  r.add(
    'post',
    '/api/admin/accounts/:id/token',
    {
      tag,
      who: 'admin',
      description: "Rotates an account's TokenAccount: the new one is in the answer, the old one stops working and its streams close with 4001.",
      response: accountTokenRotated,
    },
    async (ctx) => {
      const token = await commands.rotateAccountToken(accountId(ctx.params[0]!))
      sendOk(ctx, 'Account token rotated', { token })
    },
  )
}
