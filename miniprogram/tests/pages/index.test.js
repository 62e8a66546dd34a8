// Home: my flats, what waits for me, each flat's contribution plans, projects and open surveys,
// the large-type switch.
const { open, text, tap, settle, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')
const px = require('../project-fixtures')

const ME = {
  user: { id: 1, name: null, phone: null, roles: [] },
  bindings: [
    { id: 11, relation: 'owner', relation_name: '业主', status: 'approved', status_name: '已绑定', reason: null,
      flat: { id: 101, label: '阳光里小区 1栋1单元101' } },
    { id: 12, relation: 'owner', relation_name: '业主', status: 'ended', status_name: '已失效（名册业主已变更）',
      reason: '名册变更：该房屋业主已变更，原业主绑定失效', flat: { id: 102, label: '阳光里小区 1栋1单元102' } },
  ],
  roles: [],
}
const LIST = [
  { id: 5, title: '1栋加装电梯', status: 'open', accepting: true, answered: false, closes_at: '2026-12-05T16:00:00Z' },
  { id: 6, title: '外墙改造', status: 'open', accepting: true, answered: true, closes_at: '2026-12-05T16:00:00Z' },
  { id: 4, title: '纳入改造计划', status: 'published', accepting: false, answered: true, closes_at: '2026-10-01T16:00:00Z' },
]

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

beforeEach(() => {
  wxFake.route('GET', '/inbox', answer({ items: [], unread: 2 }))
  wxFake.route('GET', '/plans', answer([]))
  wxFake.route('GET', '/projects', answer([]))
  wxFake.route('GET', '/surveys', answer([]))
})

test('shows my flats, what waits for me and why a binding ended', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/index/index')
  const shown = text(page)
  expect(shown).toContain('阳光里小区 1栋1单元101')
  expect(shown).toContain('待表决：1栋加装电梯（2026年12月6日 00:00 截止）')
  expect(shown).not.toContain('待表决：外墙改造')
  expect(shown).toContain('已公布：纳入改造计划')
  expect(shown).toContain('原因：名册变更：该房屋业主已变更，原业主绑定失效')
  expect(wxFake.calls.map((c) => c.path)).toEqual([
    '/me', '/inbox', '/consultations?flat_id=101', '/plans?flat_id=101', '/projects?flat_id=101', '/surveys?flat_id=101',
  ])
  expect(shown).toContain('消息（2 条未读）')
  await tap(page, '.waiting')
  expect(wxFake.navigations).toEqual(['/pages/consultation/index?id=5&flat_id=101'])
})

test('each flat lists its contribution plans: what it owes, whether it pledged; each opens the plan', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  const open1 = fx.forFlat('owner')
  const closed = fx.forFlat('owner', fx.pledge(), {
    id: 2, title: '外墙保温出资', status: 'funded', status_name: '已截止·资金已落实', accepting: false,
    outcome: { funded: true, decided_at: '2026-11-01T16:00:00Z' },
  })
  wxFake.route('GET', '/plans', answer([open1, closed]))
  const page = await open('pages/index/index')
  const shown = text(page)
  expect(shown).toContain('⋯ 出资认筹：3栋加装电梯出资方案（2026年12月8日 19:54 截止）')
  expect(shown).toContain('本户应缴 ¥66,636.79，未承诺')
  expect(shown).toContain('出资方案：外墙保温出资（已截止·资金已落实）')
  expect(shown).toContain('本户应缴 ¥66,636.79，已承诺·未缴')
  await tap(page, '.plan')
  expect(wxFake.navigations).toEqual(['/pages/plan/index?id=1&flat_id=101'])
})

test('plans that cannot be read leave the consultations in place, and say so', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  wxFake.route('GET', '/plans', () => ({ status: 500, body: { error: { code: 'server', message: '服务暂时不可用，请稍后再试', details: {} } } }))
  const page = await open('pages/index/index')
  expect(text(page)).toContain('待表决：1栋加装电梯')
  expect(text(page)).toContain('⚠ 出资方案暂时无法加载：服务暂时不可用，请稍后再试（下拉可刷新）')
})

test('each flat lists its open surveys (answered or not) and its compound\'s projects with their phase', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  const answered = px.data('needs_answered_read')
  const closed = px.data('surveys_for_flat_done')
  wxFake.route('GET', '/surveys', answer([...px.data('surveys_for_flat_open'), { ...answered, id: 9, title: '楼道照明意见征集' }, ...closed]))
  wxFake.route('GET', '/projects', px.reply('projects_for_flat'))
  const page = await open('pages/index/index')
  const shown = text(page)
  expect(page.querySelectorAll('.survey').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())).toEqual([
    '⋯ 待填写需求调查：阳光里小区改造需求调查（2026年3月16日 09:04 截止）',
    '✓ 已填写需求调查：楼道照明意见征集（2026年3月16日 09:04 截止）截止前可以修改，以最后一次为准',
  ]) // closed surveys are read from their project
  expect(shown).toContain('改造项目：2栋屋面防水')
  expect(shown).toContain('当前阶段：需求调查（点按查看全过程）')
  expect(shown).toContain('改造项目：阳光里小区综合改造')
  expect(shown).toContain('当前阶段：已完成')
  await tap(page, '.survey')
  page.querySelectorAll('.project')[1].dispatchEvent('tap')
  await settle()
  expect(wxFake.navigations).toEqual([
    `/pages/survey/index?id=${px.ids.needs_survey}&flat_id=101`, `/pages/project/index?id=${px.ids.project}&flat_id=101`,
  ])
})

test('projects and surveys that cannot be read leave the rest in place, and say so', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  wxFake.route('GET', '/projects', () => 'fail')
  wxFake.route('GET', '/surveys', () => ({ status: 500, body: { error: { code: 'server', message: '服务暂时不可用，请稍后再试', details: {} } } }))
  const page = await open('pages/index/index')
  expect(text(page)).toContain('待表决：1栋加装电梯')
  expect(text(page)).toContain('⚠ 改造项目暂时无法加载：网络不给力，请检查网络后重试（下拉可刷新）')
  expect(text(page)).toContain('⚠ 问卷暂时无法加载：服务暂时不可用，请稍后再试（下拉可刷新）')
})

test('my pledges are one tap away', async () => {
  wxFake.route('GET', '/me', answer({ ...ME, bindings: [] }))
  const page = await open('pages/index/index')
  await tap(page, '.pledges')
  expect(wxFake.navigations).toEqual(['/pages/pledges/index'])
})

test('someone with no flat is told how to bind', async () => {
  wxFake.route('GET', '/me', answer({ ...ME, bindings: [] }))
  const page = await open('pages/index/index')
  expect(text(page)).toContain('您还没有绑定房屋')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/me', () => 'fail')
  const page = await open('pages/index/index')
  expect(text(page)).toContain('网络不给力，请检查网络后重试')
  wxFake.route('GET', '/me', answer({ ...ME, bindings: [] }))
  await tap(page, '.retry')
  expect(text(page)).toContain('您还没有绑定房屋')
})

test('the large-type switch is remembered', async () => {
  wxFake.route('GET', '/me', answer({ ...ME, bindings: [] }))
  const page = await open('pages/index/index')
  expect(page.instance.data.large).toBe(false)
  page.instance.toggleLarge({ detail: { value: true } })
  await settle()
  expect(wxFake.storage.get('gongjian.largeType')).toBe(true)
  const again = await open('pages/index/index')
  expect(again.instance.data.large).toBe(true)
  expect(again.querySelector('.page').dom.className).toContain('large')
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', '/me', answer(ME))
  wxFake.route('GET', '/consultations', answer(LIST))
  wxFake.route('GET', '/plans', answer([fx.forFlat('owner')]))
  wxFake.route('GET', '/projects', px.reply('projects_for_flat'))
  wxFake.route('GET', '/surveys', px.reply('surveys_for_flat_open'))
  const page = await open('pages/index/index')
  expect(await expectLargeType(page)).toBeGreaterThan(8)
})

test('my 编号 shows, an owner\'s flat card leads to granting a proxy for that flat, and 委托代签 to my proxies', async () => {
  wxFake.route('GET', '/me', answer({ ...ME, user: { ...ME.user, id: 27 } }))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/index/index')
  expect(text(page)).toContain('我的编号：27（别人委托您代签时，请告诉对方这个编号）')
  expect(page.querySelectorAll('.grant-proxy')).toHaveLength(1) // the approved owner's flat, not the ended binding
  await tap(page, '.grant-proxy')
  await tap(page, '.proxies')
  expect(wxFake.navigations).toEqual(['/pages/proxies/index?flat_id=101', '/pages/proxies/index'])
})

test('a family member\'s flat card offers no proxy to grant', async () => {
  const family = { ...ME.bindings[0], relation: 'family', relation_name: '家庭成员' }
  wxFake.route('GET', '/me', answer({ ...ME, bindings: [family] }))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/index/index')
  expect(text(page)).toContain('家庭成员 · 已绑定')
  expect(page.querySelectorAll('.grant-proxy')).toHaveLength(0)
})
