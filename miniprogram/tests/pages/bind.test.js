// The binding form: relation, name, last 4 digits of the roster phone; every answer in plain words.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

const LABEL = '阳光里小区 3号楼2单元102'
const OPTIONS = { flat_id: '312', label: encodeURIComponent(LABEL) }

// POST /bindings's answer as the backend gives it (201).
function created(status) {
  return () => ({
    status: 201,
    body: { data: { id: 41, status, binding: {
      id: 41, relation: 'owner', relation_name: '业主', status, status_name: status === 'approved' ? '已绑定' : '待审核',
      reason: null, created_at: '2026-11-28T09:51:29.348661Z',
      flat: { id: 312, room: '102', floor: 1, unit: { id: 6, name: '2单元' }, building: { id: 3, name: '3号楼' },
        compound: { id: 1, name: '阳光里小区' }, label: LABEL },
    } } },
  })
}

function refused(status, code, message, details = {}) {
  return () => ({ status, body: { error: { code, message, details } } })
}

async function type(page, selector, value) {
  find(page, selector).dispatchEvent('input', { detail: { value } })
  await settle()
}

async function fillOwner(page) {
  await type(page, '.name', '王秀英')
  await type(page, '.phone', '5678')
}

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/bindings')
}

test('an owner whose name and phone match the roster is bound at once', async () => {
  wxFake.route('POST', '/bindings', created('approved'))
  const page = await open('pages/bind/index', OPTIONS)
  expect(text(page)).toContain(LABEL)
  expect(text(page)).toContain('✓ 业主') // owner is the first choice, marked by a sign, not colour alone
  await fillOwner(page)
  await tap(page, '.submit')
  expect(posts()).toHaveLength(1)
  expect(posts()[0].data).toEqual({ flat_id: 312, relation: 'owner', name: '王秀英', phone_last4: '5678' })
  expect(posts()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(text(page)).toContain('✓ 绑定成功')
  await tap(page, '.home')
  expect(wxFake.navigations).toEqual(['/pages/index/index'])
})

test('a family member sends no phone digits and waits for the grid worker', async () => {
  wxFake.route('POST', '/bindings', created('pending'))
  const page = await open('pages/bind/index', OPTIONS)
  page.querySelectorAll('.relation')[1].dispatchEvent('tap')
  await settle()
  expect(text(page)).toContain('✓ 家庭成员')
  expect(find(page, '.phone')).toBeFalsy()
  await type(page, '.name', '  李红 ')
  await tap(page, '.submit')
  expect(posts()[0].data).toEqual({ flat_id: 312, relation: 'family', name: '李红', phone_last4: null })
  expect(text(page)).toContain('⋯ 已提交，等待网格员审核')
})

test('the form checks name and digits before sending anything', async () => {
  const page = await open('pages/bind/index', OPTIONS)
  await type(page, '.phone', '56a')
  await tap(page, '.submit')
  expect(posts()).toHaveLength(0)
  expect(text(page)).toContain('⚠ 请填写 1 到 32 个字的姓名')
  expect(text(page)).toContain('⚠ 请填写 4 位数字')
})

test('a network failure keeps what was typed and retries with the same key', async () => {
  wxFake.route('POST', '/bindings', () => 'fail')
  const page = await open('pages/bind/index', OPTIONS)
  await fillOwner(page)
  await tap(page, '.submit')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(text(page)).toContain('您填写的内容都还在')
  expect(page.instance.data.name).toBe('王秀英')
  expect(page.instance.data.phoneLast4).toBe('5678')
  wxFake.route('POST', '/bindings', created('approved'))
  await tap(page, '.retry-submit')
  expect(text(page)).toContain('✓ 绑定成功')
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(posts()[posts().length - 1].data).toEqual(posts()[0].data)
})

test('changing what was typed after a failure sends a new request with a new key', async () => {
  wxFake.route('POST', '/bindings', () => 'fail')
  const page = await open('pages/bind/index', OPTIONS)
  await fillOwner(page)
  await tap(page, '.submit')
  const first = posts()[0].header['Idempotency-Key']
  wxFake.route('POST', '/bindings', created('approved'))
  await type(page, '.phone', '5679')
  await tap(page, '.submit')
  const last = posts()[posts().length - 1]
  expect(last.data.phone_last4).toBe('5679')
  expect(last.header['Idempotency-Key']).not.toBe(first)
})

test('field messages of a 422 stand next to their fields', async () => {
  wxFake.route('POST', '/bindings', refused(422, 'validation_error', '请求参数有误，请检查后重试',
    { json: { name: ['请填写 1 到 32 个字的姓名'], phone_last4: ['应为手机号后 4 位数字'] } }))
  const page = await open('pages/bind/index', OPTIONS)
  await fillOwner(page)
  await tap(page, '.submit')
  expect(find(page, '.name-error').dom.textContent).toContain('请填写 1 到 32 个字的姓名')
  expect(find(page, '.phone-error').dom.textContent).toContain('应为手机号后 4 位数字')
  expect(text(page)).toContain('请按提示修改后再提交')
})

test.each([
  [409, 'already_bound', '您已绑定该房屋', { binding_id: 41, status: 'approved' }, '不用再次绑定'],
  [409, 'already_pending', '您的绑定申请正在等待网格员审核', { binding_id: 41, status: 'pending' }, '不用重复提交'],
  [429, 'too_many_attempts', '核对失败次数过多，请一小时后再试，或联系网格员协助绑定', {}, '请联系您所在网格的网格员'],
  [429, 'flat_locked', '该房屋因多次核对失败已被锁定，请联系所在网格的网格员核实并解锁', {}, '核实后为您解锁'],
  [429, 'too_many_pending', '您已有 3 个绑定申请在等待审核，请等网格员处理后再申请', { pending: 3 }, '请等网格员处理已有的申请'],
])('%i %s: the backend\'s message and what to do', async (status, code, message, details, next) => {
  wxFake.route('POST', '/bindings', refused(status, code, message, details))
  const page = await open('pages/bind/index', OPTIONS)
  await fillOwner(page)
  await tap(page, '.submit')
  expect(text(page)).toContain(message)
  expect(text(page)).toContain(next)
  expect(find(page, '.submit')).toBeFalsy() // settled: nothing to send again
  expect(find(page, '.home')).toBeTruthy()
})

test('a flat the backend does not know: its message, and the form stays', async () => {
  wxFake.route('POST', '/bindings', refused(404, 'not_found', '没有找到该房屋'))
  const page = await open('pages/bind/index', OPTIONS)
  await fillOwner(page)
  await tap(page, '.submit')
  expect(text(page)).toContain('⚠ 没有找到该房屋')
  expect(find(page, '.submit')).toBeTruthy()
})

test('without a flat the page says how to choose one', async () => {
  const page = await open('pages/bind/index', {})
  expect(text(page)).toContain('还没有选择房屋，请回到首页扫描楼栋二维码')
  await tap(page, '.home-empty')
  expect(wxFake.navigations).toEqual(['/pages/index/index'])
})

test('in large type every text and button of the form is large', async () => {
  const page = await open('pages/bind/index', OPTIONS)
  expect(await expectLargeType(page)).toBeGreaterThan(5)
})
