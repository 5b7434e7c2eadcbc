/**
 * @module Route registration: reads the request, passes the gate, checks the token kind, reads the
 * body when there is one, runs the handler and turns whatever it throws into the error envelope.
 * Nothing escapes a uWS callback.
 */
import type { TemplatedApp } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError, MSG } from '../../core/errors.js'
import type { Principal } from '../../hub/model.js'
import type { Gate } from './gate.js'
import { allowMethods, ambiguousFraming, readCtx, readJson, routeShape, sendFailure, watchAbort, type Ctx, type Method } from './http.js'

export interface RouteOptions {
  /** Which principals may call it: admin only, account/instance tokens (default), or account tokens only. */
  who?: 'admin' | 'tenant' | 'account'
  body?: boolean
  create?: boolean
  /** Reads `Last-Event-ID` (SSE resume). */
  lastEventId?: boolean
}

export type Handler = (ctx: Ctx, p: Principal, body: unknown) => void | Promise<void>

export class Router {
  private readonly patterns = new Set<string>()

  constructor(
    readonly app: TemplatedApp,
    private readonly gate: Gate,
    private readonly log: Logger,
  ) {}

  /** Answers 405 for the methods a path registered outside the router does not take. */
  allow(pattern: string): void {
    allowMethods(this.app, pattern, this.patterns)
  }

  add(method: Method, pattern: string, opts: RouteOptions, handler: Handler): void {
    const shape = routeShape(method === 'del' ? 'delete' : method, pattern, opts)
    const who = opts.who ?? 'tenant'
    const gateOpts = { create: opts.create === true }
    this.app[method](pattern, (res, req) => {
      // Dropped, not answered: uWS parses a pipelined request from the same packet as soon as a
      // handler answers, so even a 400 here would let a request smuggled behind the body run.
      if (opts.body && ambiguousFraming(req)) return void res.close()
      const ctx = readCtx(res, req, shape)
      try {
        const p = this.gate.pass(ctx, gateOpts)
        if (p === null) return
        if (who === 'admin' && p.kind !== 'admin') throw new HubError('forbidden', MSG.adminOnly)
        if (who !== 'admin' && p.kind === 'admin') throw new HubError('forbidden', MSG.accountOnly)
        if (who === 'account' && p.kind !== 'account') throw new HubError('forbidden', MSG.noAccess)
        if (opts.body) {
          const body = readJson(ctx)
          watchAbort(ctx)
          body.then((b) => handler(ctx, p, b)).catch((err) => sendFailure(ctx, err, this.log))
          return
        }
        const out = handler(ctx, p, undefined)
        if (out instanceof Promise) {
          watchAbort(ctx)
          out.catch((err) => sendFailure(ctx, err, this.log))
        }
      } catch (err) {
        sendFailure(ctx, err, this.log)
      }
    })
    allowMethods(this.app, pattern, this.patterns)
  }
}
