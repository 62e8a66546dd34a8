// The inbox: newest first, unread marked in words, opening one reads it, all can be marked read.
// A 公示 shows its period; opened during it, a form files an objection or an opinion for my flat,
// and what became of it (held for review, refused, answered) is said in plain words.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

const BOX = {
  unread: 1,
  items: [
    { id: 12, notice_id: 4, title: '停水通知', body: '明日 9:00-12:00 1栋停水。\n请提前储水。', page: 'pages/inbox/index?notice_id=4',
      created_at: '2026-11-28T01:00:00Z', read: false, publicity: null },
    { id: 9, notice_id: 2, title: '加装电梯说明会', body: '周六上午在社区活动室。', page: 'pages/inbox/index?notice_id=2',
      created_at: '2026-11-20T02:30:00Z', read: true, publicity: null },
  ],
}

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
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
  await tap(page, '.head')
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


// ---------------------------------------------------------------- 公示 with an objection period

const PERIOD = { start: '2026-11-28T00:00:00Z', end: '2026-12-05T00:00:00Z' }
const OPEN = { period: PERIOD, subject: { type: 'consultation', id: 3 }, objections_open: true, ended_at: null, objection_count: null }
const ENDED = { ...OPEN, objections_open: false, ended_at: '2026-12-05T00:01:00Z', objection_count: 2 }

function publicityBox(publicity) {
  return {
    unread: 1,
    items: [{ id: 15, notice_id: 6, title: '1栋加装电梯方案公示', body: '方案见社区公告栏。', page: 'pages/inbox/index?notice_id=6',
      created_at: '2026-11-28T00:00:00Z', read: false, publicity }],
  }
}

const NOTICE = {
  id: 6, kind: 'publicity', kind_name: '公示', scope: { type: 'building', id: 1 }, compound: { id: 1, name: '阳光里小区' },
  title: '1栋加装电梯方案公示', body: '方案见社区公告栏。', push: false, created_at: '2026-11-28T00:00:00Z', publicity: OPEN,
}

function filed(extra) {
  return {
    id: 31, notice_id: 6, kind: 'objection', kind_name: '异议', flat: { id: 101, label: '1栋1单元101' }, name: '张*', mine: true,
    text: '电梯井挡住我家窗户', has_photo: true, status: 'visible', status_name: '已公开', reason: null, answer: null,
    answered_at: null, created_at: '2026-11-29T02:00:00Z', ...extra,
  }
}

async function openPublicity(publicity, objections) {
  wxFake.route('GET', '/inbox', answer(publicityBox(publicity)))
  wxFake.route('POST', '/inbox/15/read', answer({ marked: 1, unread: 0 }))
  wxFake.route('GET', '/notices/6/objections', answer(objections))
  const page = await open('pages/inbox/index')
  await tap(page, '.head')
  return page
}

async function fillForm(page, kind = 'objection', words = '电梯井挡住我家窗户') {
  await tap(page, '.kind-' + kind)
  page.instance.inputText({ detail: { value: words } })
  await settle()
}

test('a 公示 shows its period and, during it, that objections may be filed', async () => {
  wxFake.route('GET', '/inbox', answer(publicityBox(OPEN)))
  const shown = text(await open('pages/inbox/index'))
  expect(shown).toContain('【公示】1栋加装电梯方案公示')
  expect(shown).toContain('公示期：2026年11月28日 08:00 至 2026年12月5日 08:00')
  expect(shown).toContain('公示期内，可以提出异议或意见')
})

test('an objection with a photo is filed for my flat; held for review, it says so in words', async () => {
  const page = await openPublicity(OPEN, { notice: NOTICE, staff: false, objections: [], flats: [{ id: 101, label: '1栋1单元101' }] })
  expect(text(page)).toContain('提出异议或意见')
  expect(text(page)).toContain('房屋：1栋1单元101')
  await fillForm(page)
  await tap(page, '.photo')
  expect(text(page)).toContain('✓ 已添加照片')
  wxFake.route('POST', '/notices/6/objections', answer(filed({ status: 'held', status_name: '待审核' }), 201))
  await tap(page, '.submit')
  const post = wxFake.calls.find((c) => c.path === '/notices/6/objections' && c.method === 'POST')
  expect(post.data).toEqual({ flat_id: 101, kind: 'objection', text: '电梯井挡住我家窗户', photo: 'aGVsbG8=' })
  expect(text(page)).toContain('内容需要工作人员人工审核，审核后才会公开')
  expect(find(page, '.submit')).toBeFalsy() // one per flat: none left
})

test('refused content is said plainly and the text is kept for another try', async () => {
  const page = await openPublicity(OPEN, { notice: NOTICE, staff: false, objections: [], flats: [{ id: 101, label: '1栋1单元101' }] })
  await fillForm(page, 'opinion', '不当内容')
  wxFake.route('POST', '/notices/6/objections', () => ({
    status: 422, body: { error: { code: 'content_risky', message: '内容含有不当信息，未能提交', details: {} } } }))
  await tap(page, '.submit')
  expect(text(page)).toContain('⚠ 内容含有不当信息，未能提交')
  expect(page.instance.data.objecting.text).toBe('不当内容')
  expect(find(page, '.submit')).toBeTruthy()
})

test('the period over: a 409 is shown in words', async () => {
  const page = await openPublicity(OPEN, { notice: NOTICE, staff: false, objections: [], flats: [{ id: 101, label: '1栋1单元101' }] })
  await fillForm(page)
  wxFake.route('POST', '/notices/6/objections', () => ({ status: 409, body: { error: { code: 'ended', message: '公示期已结束', details: {} } } }))
  await tap(page, '.submit')
  expect(text(page)).toContain('⚠ 公示期已结束')
})

test('nothing chosen or written: the form says what is missing and sends nothing', async () => {
  const page = await openPublicity(OPEN, { notice: NOTICE, staff: false, objections: [], flats: [{ id: 101, label: '1栋1单元101' }] })
  await tap(page, '.submit')
  expect(text(page)).toContain('请选择“异议”或“意见”')
  await tap(page, '.kind-opinion')
  await tap(page, '.submit')
  expect(text(page)).toContain('请填写内容')
  expect(wxFake.calls.filter((c) => c.path === '/notices/6/objections' && c.method === 'POST')).toEqual([])
})

test('after the period: no form; what I filed shows its answer, a refused one its reason', async () => {
  const page = await openPublicity(ENDED, {
    notice: { ...NOTICE, publicity: ENDED }, staff: false, flats: [],
    objections: [
      filed({ answer: '已请设计单位调整井道位置', answered_at: '2026-12-01T02:00:00Z' }),
      filed({ id: 32, flat: { id: 102, label: '1栋1单元102' }, kind: 'opinion', kind_name: '意见', text: '想私下谈',
        status: 'rejected', status_name: '未采纳', reason: '与公示无关', has_photo: false }),
    ],
  })
  const shown = text(page)
  expect(shown).toContain('公示已结束')
  expect(shown).toContain('工作人员答复（2026年12月1日 10:00）：已请设计单位调整井道位置')
  expect(shown).toContain('工作人员审核后未予公开。原因：与公示无关')
  expect(find(page, '.form')).toBeFalsy()
})

test('the objections failing to load offers the message, not a broken form', async () => {
  wxFake.route('GET', '/inbox', answer(publicityBox(OPEN)))
  wxFake.route('POST', '/inbox/15/read', answer({ marked: 1, unread: 0 }))
  wxFake.route('GET', '/notices/6/objections', () => 'fail')
  const page = await open('pages/inbox/index')
  await tap(page, '.head')
  expect(text(page)).toContain('网络不给力')
  expect(find(page, '.form')).toBeFalsy()
})

test('large type with the objection form open', async () => {
  const page = await openPublicity(OPEN, { notice: NOTICE, staff: false, objections: [filed({ flat: { id: 102, label: '1栋1单元102' } })],
    flats: [{ id: 101, label: '1栋1单元101' }] })
  expect(await expectLargeType(page)).toBeGreaterThan(8)
})
