/** Items for the dashboard's unit tests. */
import type { InstanceItem } from '../client/index.js'
import { defaultConfig } from '../core/integrations.js'
import { renderRyzeItem } from '../core/item.js'
import { initialStatus, type InstanceStatus } from '../core/status.js'

let id = 0

export function itemOf(name: string, status: Partial<InstanceStatus> = {}, extra: { apiInstanceName?: string } = {}): InstanceItem {
  const T0 = '2025-01-01T00:00:00.000Z'
  return renderRyzeItem({
    id: ++id,
    accountId: 1,
    name,
    apiInstanceName: extra.apiInstanceName ?? `t1_x_${name}`,
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    status: { ...initialStatus(T0), ...status },
    config: defaultConfig(),
  })
}
