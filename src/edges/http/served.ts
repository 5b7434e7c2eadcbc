/**
 * @module Answers per route and status code since start, for `statushub_http_requests_total`.
 * The request path bumps one integer in its route's own counts (found once, when the route is
 * mounted); the metrics edge reads them at scrape time. Routes are the route table's names
 * (`GET /api/instance/list`), never request paths, so the label values are bounded by the table.
 */

/** One route's answers by status code. */
export class RouteCounts {
  readonly byCode = new Map<number, number>()

  add(code: number): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1)
  }
}

/** The route label of requests no route matched (the 404 of an unknown path). */
export const UNMATCHED = 'unmatched'

export class Served {
  private readonly routes = new Map<string, RouteCounts>()

  /** The counts of the route named `name` (`GET /ws`, `OPTIONS /api/instance/list`). */
  route(name: string): RouteCounts {
    let c = this.routes.get(name)
    if (c === undefined) this.routes.set(name, (c = new RouteCounts()))
    return c
  }

  *entries(): Iterable<{ route: string; code: number; count: number }> {
    for (const [route, c] of this.routes) for (const [code, count] of c.byCode) yield { route, code, count }
  }
}
