// Writing a notice: only places of my scope, the text, confirm, sent; a failure keeps the text and
// retries with the same Idempotency-Key.
const { open, text, tap, settle, expectLargeType } = require('../helpers')

const SCOPES = [
  { type: 'building', id: 1, name: '阳光里小区 1栋' },
  { type: 'building', id: 2, name: '阳光里小区 2栋' },
]

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

async function fill(page) {
  page.instance.pickScope({ detail: { value: '0' } })
  page.instance.inputTitle({ detail: { value: '停水通知' } })
  page.instance.inputBody({ detail: { value: '明日 9:00-12:00 停水。' } })
  page.instance.togglePush({ detail: { value: true } })
  await settle()
  await tap(page, '.next')
}

const SENT = {
  id: 7, kind: 'notice', kind_name: '通知', scope: { type: 'building', id: 1 }, compound: { id: 1, name: '阳光里小区' },
  title: '停水通知', body: '明日 9:00-12:00 停水。', push: true, created_at: '2026-11-28T02:00:00Z', recipients: 24, pushes_queued: 19,
}

test('a grid worker writes to a building of the grid, confirms, and is told who received it', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  wxFake.route('POST', '/notices', answer(SENT, 201))
  const page = await open('pages/staff/notice/index')
  await fill(page)
  expect(text(page)).toContain('发给：阳光里小区 1栋的已绑定居民')
  await tap(page, '.send')
  const post = wxFake.calls.find((c) => c.method === 'POST')
  expect(post.data).toEqual({ scope: { type: 'building', id: 1 }, title: '停水通知', body: '明日 9:00-12:00 停水。', push: true })
  expect(text(page)).toContain('24 位居民')
  expect(text(page)).toContain('19 条')
})

test('nothing is sent without a place, a title and a text', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  const page = await open('pages/staff/notice/index')
  await tap(page, '.next')
  expect(text(page)).toContain('请选择发给哪里')
  expect(text(page)).toContain('请填写标题')
  expect(wxFake.calls.filter((c) => c.method === 'POST')).toEqual([])
})

test('a network failure keeps the text and the retry sends the same Idempotency-Key', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  wxFake.route('POST', '/notices', () => 'fail')
  const page = await open('pages/staff/notice/index')
  await fill(page)
  await tap(page, '.send')
  expect(text(page)).toContain('内容都还在')
  wxFake.route('POST', '/notices', answer(SENT, 201))
  await tap(page, '.send')
  const keys = new Set(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.header['Idempotency-Key']))
  expect(keys.size).toBe(1)
  expect(text(page)).toContain('✓ 已发送')
})

test("the backend's refusal is shown in its words", async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  wxFake.route('POST', '/notices', () => ({ status: 403, body: { error: { code: 'forbidden', message: '只能向您负责的范围发通知（网格员：本网格的楼栋或单元）', details: {} } } }))
  const page = await open('pages/staff/notice/index')
  await fill(page)
  await tap(page, '.send')
  expect(text(page)).toContain('只能向您负责的范围发通知')
})

test('someone with no place to write to is told so', async () => {
  wxFake.route('GET', '/notices/scopes', answer([]))
  expect(text(await open('pages/staff/notice/index'))).toContain('没有可以发通知的楼栋')
})

test('large type', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  const page = await open('pages/staff/notice/index')
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})
