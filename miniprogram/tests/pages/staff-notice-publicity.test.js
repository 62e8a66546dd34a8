// Writing a 公示 from the staff notice page: the period chosen in days from now is sent as
// kind publicity with period {start, end}; the sent 公示 links to its objections, and the page links
// to the objections of every 公示.
const { open, text, tap, settle } = require('../helpers')

const SCOPES = [{ type: 'building', id: 1, name: '阳光里小区 1栋' }]

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

const SENT = {
  id: 6, kind: 'publicity', kind_name: '公示', scope: { type: 'building', id: 1 }, compound: { id: 1, name: '阳光里小区' },
  title: '加装电梯方案公示', body: '方案见公告栏。', push: false, created_at: '2026-11-28T02:00:00Z', recipients: 24, pushes_queued: 0,
  publicity: { period: { start: '2026-11-28T02:00:00Z', end: '2026-12-08T02:00:00Z' }, subject: null, objections_open: true,
    ended_at: null, objection_count: null },
}

test('a 公示 of 10 days is sent with its period and links to its objections', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  wxFake.route('POST', '/notices', answer(SENT, 201))
  const page = await open('pages/staff/notice/index')
  page.instance.pickScope({ detail: { value: '0' } })
  page.instance.inputTitle({ detail: { value: '加装电梯方案公示' } })
  page.instance.inputBody({ detail: { value: '方案见公告栏。' } })
  page.instance.togglePublicity({ detail: { value: true } })
  page.instance.pickDays({ detail: { value: '2' } })
  await settle()
  expect(text(page)).toContain('公示期：从现在起 10 天')
  await tap(page, '.next')
  expect(text(page)).toContain('这是公示：从现在起到')
  const before = Date.now()
  await tap(page, '.send')
  const post = wxFake.calls.find((c) => c.method === 'POST')
  expect(post.data.kind).toBe('publicity')
  const start = Date.parse(post.data.period.start)
  expect(start).toBeGreaterThanOrEqual(before - 1000)
  expect(Date.parse(post.data.period.end) - start).toBe(10 * 24 * 3600 * 1000)
  await tap(page, '.sent-objections')
  expect(wxFake.navigations).toContain('/pages/staff/objections/index?notice_id=6')
})

test('the page links to the objections of every 公示', async () => {
  wxFake.route('GET', '/notices/scopes', answer(SCOPES))
  const page = await open('pages/staff/notice/index')
  await tap(page, '.objections')
  expect(wxFake.navigations).toContain('/pages/staff/objections/index')
})
