// The mini-program and the backend cannot drift: every service function reaches an operation of the
// backend's OpenAPI document that documents its success answer, and the answer checker itself works.
const fs = require('fs')
const path = require('path')
const contract = require('./contract')

const SERVICES = path.join(__dirname, '..', 'services')

// Each exported function of services/*.js, called with plain arguments: ids 1, texts, objects.
function* serviceCalls() {
  for (const file of fs.readdirSync(SERVICES).filter((f) => f.endsWith('.js'))) {
    const service = require(path.join(SERVICES, file))
    for (const [name, fn] of Object.entries(service)) {
      if (typeof fn !== 'function' || name === 'login') continue
      const args = Array.from({ length: Math.max(fn.length, 1) }, (_, i) =>
        i === 0 ? 1 : { flatId: 1, choice: 'agree', signature: 'x', photo: 'x', relation: 'owner', name: '张三', phoneLast4: '1234' })
      yield { label: `${file.replace('.js', '')}.${name}`, call: () => fn(...args) }
    }
  }
}

test('the OpenAPI document is there (scripts/export_openapi.py writes it)', () => {
  expect(fs.existsSync(contract.FILE)).toBe(true)
  expect(Object.keys(contract.load().paths).length).toBeGreaterThan(20)
})

const calls = [...serviceCalls()]

test('there are service functions to check', () => {
  expect(calls.length).toBeGreaterThan(20)
})

test.each(calls.map((c) => [c.label, c]))('%s reaches a documented operation', async (_, { call }) => {
  wxFake.route('GET', /.*/, () => 'fail')
  wxFake.route('POST', /.*/, () => 'fail')
  wxFake.route('DELETE', /.*/, () => 'fail')
  await call().catch(() => {})
  const made = wxFake.calls.filter((c) => c.path !== '/auth/login')
  expect(made.length).toBeGreaterThan(0)
  for (const request of made) {
    const hit = contract.operationFor(request.method, request.path)
    expect(hit && hit.template).toBeTruthy()
    expect(hit.unknownQuery).toEqual([])
    const success = Object.entries(hit.operation.responses).find(([status]) => status.startsWith('2'))
    expect(success).toBeTruthy()
    const content = success[1].content || {}
    const json = content['application/json']
    if (json) expect(Object.keys(json.schema || {}).length).toBeGreaterThan(0) // documented, not {}
  }
})

test('the answer checker names an undeclared field, a wrong type and a missing operation', () => {
  const schema = {
    type: 'object',
    properties: {
      data: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, room: { type: 'string', nullable: true } } } },
    },
  }
  expect(contract.undeclared({ data: [{ id: 1, room: '101' }, { id: 2, room: null }] }, schema)).toEqual([])
  expect(contract.undeclared({ data: [{ id: 1, lable: 'x' }] }, schema)).toEqual(['body.data[0].lable: not declared by the backend'])
  expect(contract.undeclared({ data: [{ id: '1' }] }, schema)).toEqual(['body.data[0].id: should be integer, is "1"'])
  expect(contract.checkAnswer('GET', '/no/such/path', 200, {})).toEqual(["GET /no/such/path: no such operation in the backend's OpenAPI document"])
  expect(contract.checkAnswer('GET', '/consultations?nosuch=1', 200, {})[0]).toContain('query parameter nosuch is not declared')
})
