// Staff and a 公示's objections: the 公示 of my scope listed with their period and count; one opened
// shows each objection with its room and a masked name; held ones are released or refused with a
// reason; each is answered; the photo opens; failures and an empty 公示 are said in words.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

const PERIOD = { start: '2026-11-28T00:00:00Z', end: '2026-12-05T00:00:00Z' }
const RUNNING = { period: PERIOD, subject: { type: 'consultation', id: 3 }, objections_open: true, ended_at: null, objection_count: null }
const ENDED = { ...RUNNING, objections_open: false, ended_at: '2026-12-05T00:01:00Z', objection_count: 2 }

function notice(extra) {
  return {
    id: 6, kind: 'publicity', kind_name: '公示', scope: { type: 'building', id: 1 }, compound: { id: 1, name: '阳光里小区' },
    title: '1栋加装电梯方案公示', body: '方案见社区公告栏。', push: false, created_at: '2026-11-28T00:00:00Z', publicity: RUNNING, ...extra,
  }
}

const LIST = [
  notice(),
  notice({ id: 4, title: '外墙维修方案公示', publicity: ENDED }),
  notice({ id: 2, kind: 'notice', kind_name: '通知', title: '停水通知', publicity: null }),
]

function objection(extra) {
  return {
    id: 31, notice_id: 6, kind: 'objection', kind_name: '异议', flat: { id: 101, label: '1栋1单元101' }, name: '张*', mine: false,
    text: '电梯井挡住我家窗户', has_photo: true, status: 'visible', status_name: '已公开', reason: null, answer: null,
    answered_at: null, created_at: '2026-11-29T02:00:00Z', ...extra,
  }
}

const HELD = objection({ id: 32, flat: { id: 102, label: '1栋1单元102' }, name: '李*', kind: 'opinion', kind_name: '意见',
  text: '施工噪音怎么办，加微信详谈', has_photo: false, status: 'held', status_name: '待审核' })

const OBJECTIONS = { notice: notice(), staff: true, objections: [objection(), HELD], flats: [] }

async function openSix() {
  wxFake.route('GET', '/notices/6/objections', answer(OBJECTIONS))
  return open('pages/staff/objections/index', { notice_id: '6' })
}

test('lists the 公示 of my scope (not plain notices) with their period and how many flats objected', async () => {
  wxFake.route('GET', '/notices', answer(LIST))
  const page = await open('pages/staff/objections/index')
  const shown = text(page)
  expect(shown).toContain('1栋加装电梯方案公示')
  expect(shown).toContain('公示中 · 2026年11月28日 08:00 至 2026年12月5日 08:00')
  expect(shown).toContain('已结束 · 2026年11月28日 08:00 至 2026年12月5日 08:00 · 提出异议 2 户')
  expect(shown).not.toContain('停水通知')
  wxFake.route('GET', '/notices/6/objections', answer(OBJECTIONS))
  await tap(page, '.publicity')
  expect(text(page)).toContain('异议 1 户 · 待审核 1 条 · 共 2 条')
})

test('each objection shows the room, a masked name and its state; a held one says why it waits', async () => {
  const shown = text(await openSix())
  expect(shown).toContain('⚠ 异议 · 1栋1单元101')
  expect(shown).toContain('张* · 2026年11月29日 10:00 · 已公开')
  expect(shown).toContain('李* · 2026年11月29日 10:00 · 待审核')
  expect(shown).toContain('公开后才计入异议')
})

test('a held opinion is released', async () => {
  const page = await openSix()
  wxFake.route('POST', '/objections/32/release', answer({ ...HELD, status: 'visible', status_name: '已公开' }))
  await tap(page, '.release')
  expect(page.instance.data.objections[1].status).toBe('visible')
  expect(find(page, '.release')).toBeFalsy()
})

test('refusing a held one needs a reason, which is sent', async () => {
  const page = await openSix()
  await tap(page, '.reject')
  expect(text(page)).toContain('请写明不予公开的原因')
  page.instance.inputReason({ currentTarget: { dataset: { id: 32 } }, detail: { value: '含联系方式' } })
  wxFake.route('POST', '/objections/32/reject', answer({ ...HELD, status: 'rejected', status_name: '未采纳', reason: '含联系方式' }))
  await tap(page, '.reject')
  const post = wxFake.calls.find((c) => c.path === '/objections/32/reject')
  expect(post.data).toEqual({ reason: '含联系方式' })
  expect(text(page)).toContain('未予公开，原因：含联系方式')
})

test('an objection is answered; an empty answer is not sent', async () => {
  const page = await openSix()
  await tap(page, '.send-answer')
  expect(text(page)).toContain('请先填写答复')
  page.instance.inputAnswer({ currentTarget: { dataset: { id: 31 } }, detail: { value: '已请设计单位调整井道位置' } })
  wxFake.route('POST', '/objections/31/answer', answer(objection({ answer: '已请设计单位调整井道位置', answered_at: '2026-12-01T02:00:00Z' })))
  await tap(page, '.send-answer')
  expect(wxFake.calls.find((c) => c.path === '/objections/31/answer').data).toEqual({ answer: '已请设计单位调整井道位置' })
  expect(text(page)).toContain('✓ 已答复（2026年12月1日 10:00）：已请设计单位调整井道位置')
})

test('a refused action says why in words', async () => {
  const page = await openSix()
  wxFake.route('POST', '/objections/32/release', () => ({ status: 409, body: { error: { code: 'not_held', message: '只有待审核的内容可以公开', details: {} } } }))
  await tap(page, '.release')
  expect(text(page)).toContain('⚠ 只有待审核的内容可以公开')
})

test('the photo opens in the viewer', async () => {
  const page = await openSix()
  wxFake.route('GET', '/objections/31/photo', () => ({ status: 200, file: '/tmp/objection.jpg' }))
  await tap(page, '.show-photo')
  expect(wxFake.navigations).toContain('preview:/tmp/objection.jpg')
})

test('no 公示 yet, none objected yet, and a failure with a retry', async () => {
  wxFake.route('GET', '/notices', answer([LIST[2]]))
  expect(text(await open('pages/staff/objections/index'))).toContain('您的范围内还没有公示')
  wxFake.route('GET', '/notices/6/objections', answer({ ...OBJECTIONS, objections: [] }))
  expect(text(await open('pages/staff/objections/index', { notice_id: '6' }))).toContain('这条公示还没有人提出异议或意见')
  wxFake.route('GET', '/notices', () => 'fail')
  const page = await open('pages/staff/objections/index')
  expect(text(page)).toContain('网络不给力')
  wxFake.route('GET', '/notices', answer(LIST))
  await tap(page, '.retry')
  await settle()
  expect(text(page)).toContain('外墙维修方案公示')
})

test('large type', async () => {
  expect(await expectLargeType(await openSix())).toBeGreaterThan(6)
})
