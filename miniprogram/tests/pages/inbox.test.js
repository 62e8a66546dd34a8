// The inbox: newest first, unread marked in words, opening one reads it, all can be marked read.
const { open, text, tap, find, expectLargeType } = require('../helpers')

const BOX = {
  unread: 1,
  items: [
    { id: 12, notice_id: 4, title: '停水通知', body: '明日 9:00-12:00 1栋停水。\n请提前储水。', page: 'pages/inbox/index?notice_id=4',
      created_at: '2026-11-28T01:00:00Z', read: false },
    { id: 9, notice_id: 2, title: '加装电梯说明会', body: '周六上午在社区活动室。', page: 'pages/inbox/index?notice_id=2',
      created_at: '2026-11-20T02:30:00Z', read: true },
  ],
}

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

test('lists the messages with the unread one marked in words and Beijing times', async () => {
  wxFake.route('GET', '/inbox', answer(BOX))
  const page = await open('pages/inbox/index')
  const shown = text(page)
  expect(shown).toContain('未读 1 条')
  expect(shown).toContain('● 未读 · 停水通知')
  expect(shown).toContain('2026年11月28日 09:00')
  expect(shown).not.toContain('请提前储水') // closed until tapped
})

test('opening a message shows its text and marks it read', async () => {
  wxFake.route('GET', '/inbox', answer(BOX))
  wxFake.route('POST', '/inbox/12/read', answer({ marked: 1, unread: 0 }))
  const page = await open('pages/inbox/index')
  await tap(page, '.item')
  expect(text(page)).toContain('请提前储水')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/inbox/12/read'])
  expect(text(page)).toContain('全部已读')
})

test('arriving from a pushed message opens that notice', async () => {
  wxFake.route('GET', '/inbox', answer(BOX))
  wxFake.route('POST', '/inbox/12/read', answer({ marked: 1, unread: 0 }))
  const page = await open('pages/inbox/index', { notice_id: '4' })
  expect(page.instance.data.openId).toBe(12)
})

test('all can be marked read at once', async () => {
  wxFake.route('GET', '/inbox', answer(BOX))
  wxFake.route('POST', '/inbox/read-all', answer({ marked: 1, unread: 0 }))
  const page = await open('pages/inbox/index')
  await tap(page, '.read-all')
  expect(page.instance.data.items.every((i) => i.read)).toBe(true)
  expect(find(page, '.read-all')).toBeFalsy()
})

test('an empty inbox says so, a failure offers a retry', async () => {
  wxFake.route('GET', '/inbox', answer({ items: [], unread: 0 }))
  expect(text(await open('pages/inbox/index'))).toContain('还没有消息')
  wxFake.route('GET', '/inbox', () => 'fail')
  const page = await open('pages/inbox/index')
  expect(text(page)).toContain('网络不给力')
  wxFake.route('GET', '/inbox', answer(BOX))
  await tap(page, '.retry')
  expect(text(page)).toContain('停水通知')
})

test('large type', async () => {
  wxFake.route('GET', '/inbox', answer(BOX))
  const page = await open('pages/inbox/index')
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})
