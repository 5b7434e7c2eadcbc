/**
 * @module `/readyz` and `GET /api/admin/cluster` (cluster contract "Running"): readiness for load
 * balancers (`/healthz` stays plain liveness), and the nodes of the cluster for an operator.
 */
import { HubError } from '../core/errors.js'
import type { ClusterView } from '../ports/cluster.js'
import type { Edge } from '../ports/edge.js'
import { clusterAnswer, ready } from '../protocol/rest-responses.js'
import { sendBytes } from './http/http.js'
import type { Router } from './http/route.js'

const READY = JSON.stringify({ success: true, status: 'ready' })

export function clusterEdge(router: Router, view: ClusterView): Edge {
  router.add(
    'get',
    '/readyz',
    {
      tag: 'Operations',
      who: 'public',
      description: 'Answers 200 when this node can serve: the embedded hub once it serves; a cluster node while it reaches the engine and has caught up with the change stream (503 saying why otherwise). No token, no rate limit.',
      response: ready,
      errors: [503],
    },
    (ctx) => {
      const why = view.notReady()
      if (why !== null) throw new HubError('unavailable', why)
      sendBytes(ctx, 200, READY)
    },
  )
  router.add(
    'get',
    '/api/admin/cluster',
    {
      tag: 'Operations',
      who: 'admin',
      description: "The cluster's epoch and its live nodes, with the leases each holds (the embedded hub answers with itself, one node).",
      response: clusterAnswer,
    },
    async (ctx) => {
      const { epoch, nodes } = await view.info()
      sendBytes(ctx, 200, JSON.stringify({ success: true, epoch, nodes }))
    },
  )
  return { name: 'cluster', stop() {} }
}
