import { describe, expect, it } from 'vitest'
import { queryParam } from './http.js'

describe('queryParam answers exactly as URLSearchParams.get', () => {
  const queries = [
    '',
    'instanceName=sales',
    'instanceName=',
    'instanceName',
    'token=abc&instanceName=sales,support',
    'instanceNameX=1&instanceName=b',
    'xinstanceName=1',
    'instanceName=a&instanceName=b',
    'instanceName=a%2Cb',
    'instanceName=a+b',
    'instance%4Eame=enc',
    '&&instanceName=x&',
    'a=1&=2&instanceName=x=y',
  ]
  it.each(queries)('%j', (raw) => {
    const expected = new URLSearchParams(raw)
    for (const name of ['instanceName', 'token', 'a', '']) expect(queryParam(raw, name)).toBe(expected.get(name))
  })
})
