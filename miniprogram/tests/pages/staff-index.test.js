// Staff home: my roles, the consultations of my scope with their three pages, the contribution
// plans with theirs, binding approvals.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')
const px = require('../project-fixtures')

const RULE = {
  preset: 'major',
  thresholds: [
    { what: 'participate', measure: 'persons', base: 'all', share: '2/3', strict: false },
    { what: 'participate', measure: 'area', base: 'all', share: '2/3', strict: false },
    { what: 'agree', measure: 'persons', base: 'participants', share: '3/4', strict: false },
    { what: 'agree', measure: 'area', base: 'participants', share: '3/4', strict: false },
  ],
  required_consent_flat_ids: [],
  objection_veto: false,
}
const OPTIONS = [{ key: 'agree', label: '同意' }, { key: 'disagree', label: '不同意' }, { key: 'abstain', label: '弃权' }]

function consultation(fields) {
  return {
    id: 5, title: '1栋1单元加装电梯', body: '拟在1栋1单元加装电梯一部。', kind: 'elevator', kind_name: '加装电梯',
    scope: { type: 'unit', id: 3 }, compound: { id: 1, name: '阳光里小区' }, rule: RULE, options: OPTIONS,
    status: 'open', status_name: '征询中', opens_at: '2026-11-20T00:00:00Z', closes_at: '2026-12-05T16:00:00Z',
    opened_at: '2026-11-20T00:00:05Z', closed_at: null, published_at: null, roll_digest: 'a3f1c2', accepting: true,
    ...fields,
  }
}

const GRID_WORKER = {
  user: { id: 7, name: '王芳', phone: '139****5678', roles: ['grid_worker'] },
  bindings: [],
  roles: [{ role: 'grid_worker', role_name: '网格员', scope: { type: 'grid', id: 2, name: '阳光里第一网格' } }],
}
const COMMITTEE = {
  user: { id: 8, name: '李强', phone: '137****0001', roles: ['committee'] },
  bindings: [],
  roles: [{ role: 'committee', role_name: '业委会/居民代表', scope: { type: 'compound', id: 1, name: '阳光里小区' } }],
}
const STREET = {
  user: { id: 9, name: null, phone: null, roles: ['street_officer'] },
  bindings: [],
  roles: [{ role: 'street_officer', role_name: '街道干部', scope: { type: 'street', id: 1, name: '和平街道' } }],
}
const LIST = [
  consultation({}),
  consultation({ id: 4, title: '外墙保温改造', kind: 'renovation_plan', kind_name: '改造方案', scope: { type: 'compound', id: 1 },
    status: 'closed', status_name: '已截止', closed_at: '2026-11-01T16:00:00Z', closes_at: '2026-11-01T16:00:00Z', accepting: false }),
  consultation({ id: 6, title: '2栋加装电梯', status: 'draft', status_name: '草稿', opens_at: null, opened_at: null,
    roll_digest: null, accepting: false, scope: { type: 'building', id: 2 } }),
]

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

const TREASURER = {
  user: { id: 10, name: '赵敏', phone: null, roles: ['treasurer'] },
  bindings: [],
  roles: [{ role: 'treasurer', role_name: '小区出纳（出资收付）', scope: { type: 'compound', id: 1, name: '阳光里小区' } }],
}
const PLANS = [
  fx.plan(),
  fx.plan({ id: 2, title: '2栋屋面防水出资方案', status: 'draft', status_name: '草稿', accepting: false, opened_at: null, digest: null }),
]

beforeEach(() => {
  wxFake.route('GET', '/plans', answer([]))
})

test('a grid worker sees the scope, each consultation with its pages, and the binding approvals', async () => {
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/staff/index')
  const shown = text(page)
  expect(shown).toContain('网格员 · 阳光里第一网格')
  expect(shown).toContain('1栋1单元加装电梯')
  expect(shown).toContain('阳光里小区 · ⋯ 征询中，正在接受表决')
  expect(shown).toContain('截止时间：2026-12-06 00:00') // 16:00 UTC is midnight in Beijing
  expect(shown).toContain('外墙保温改造')
  expect(shown).toContain('✓ 已截止')
  expect(shown).toContain('⋯ 草稿，尚未开始')
  expect(shown).toContain('开始后可查看计票、未表决住户和纸质票。')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/me', '/consultations', '/plans'])
  // two started consultations, three links each; the draft has none
  expect(page.querySelectorAll('.tally').length).toBe(2)
  expect(page.querySelectorAll('.paper').length).toBe(2)

  await tap(page, '.tally')
  await tap(page, '.pending')
  await tap(page, '.paper')
  await tap(page, '.bindings')
  const title = encodeURIComponent('1栋1单元加装电梯')
  expect(wxFake.navigations).toEqual([
    `/pages/staff/tally/index?id=5&title=${title}`,
    `/pages/staff/pending/index?id=5&title=${title}`,
    `/pages/staff/paper/index?id=5&title=${title}`,
    '/pages/staff/bindings/index',
  ])
})

test('a committee sees tallies and paper ballots but no binding approvals', async () => {
  wxFake.route('GET', '/me', answer(COMMITTEE))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/staff/index')
  expect(text(page)).toContain('业委会/居民代表 · 阳光里小区')
  expect(find(page, '.bindings')).toBeFalsy()
  expect(find(page, '.paper')).toBeTruthy()
})

test('a street officer watches tallies and door visits, without paper ballots', async () => {
  wxFake.route('GET', '/me', answer(STREET))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/staff/index')
  expect(find(page, '.tally')).toBeTruthy()
  expect(find(page, '.paper')).toBeFalsy()
  expect(find(page, '.bindings')).toBeFalsy()
})

test('no consultation in scope says so, and approvals stay at hand', async () => {
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  wxFake.route('GET', '/consultations', answer([]))
  const page = await open('pages/staff/index')
  expect(text(page)).toContain('您的范围内还没有征询。')
  expect(find(page, '.bindings')).toBeTruthy()
})

test('someone without a staff role is told, and the list is not asked for', async () => {
  wxFake.route('GET', '/me', answer({ ...GRID_WORKER, roles: [], user: { ...GRID_WORKER.user, roles: [] } }))
  const page = await open('pages/staff/index')
  expect(text(page)).toContain('您没有工作人员权限')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/me'])
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  wxFake.route('GET', '/consultations', () => ({ status: 403, body: { error: { code: 'forbidden', message: '仅限工作人员操作', details: {} } } }))
  const page = await open('pages/staff/index')
  expect(text(page)).toContain('⚠ 仅限工作人员操作')
  wxFake.route('GET', '/consultations', answer(LIST))
  await tap(page, '.retry')
  expect(text(page)).toContain('1栋1单元加装电梯')
})

test('the plans of the scope, each with the pages the role may use', async () => {
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  wxFake.route('GET', '/consultations', answer(LIST))
  wxFake.route('GET', '/plans', answer(PLANS))
  const page = await open('pages/staff/index')
  const shown = text(page)
  expect(shown).toContain('出资方案（资金共筹）')
  expect(shown).toContain('3栋加装电梯出资方案')
  expect(shown).toContain('阳光里小区3栋 · ⋯ 认筹中，正在接受出资承诺')
  expect(shown).toContain('截止时间：2026-12-08 19:54 · 居民分摊合计 ¥410,000.01')
  expect(shown).toContain('⋯ 草稿，尚未开始认筹')
  expect(page.querySelectorAll('.plan-tally').map((b) => b.dom.textContent.trim())).toEqual(['出资统计与管理', '查看方案并开始认筹'])
  expect(page.querySelectorAll('.plan-paper').length).toBe(1) // a grid worker enters paper pledges of the started plan
  expect(find(page, '.plan-payments')).toBeFalsy() // but records no payments
  await tap(page, '.plan-tally')
  await tap(page, '.plan-paper')
  const title = encodeURIComponent('3栋加装电梯出资方案')
  expect(wxFake.navigations).toEqual([`/pages/staff/plan/index?id=1&title=${title}`, `/pages/staff/plan-paper/index?id=1&title=${title}`])
})

test('a treasurer sees the plans and their payments, and is not asked about consultations', async () => {
  wxFake.route('GET', '/me', answer(TREASURER))
  wxFake.route('GET', '/plans', answer(PLANS))
  const page = await open('pages/staff/index')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/me', '/plans'])
  expect(text(page)).toContain('征询表决不在您的职责范围内。')
  expect(find(page, '.plan-paper')).toBeFalsy()
  expect(page.querySelectorAll('.plan-payments').length).toBe(1) // the started plan only
  await tap(page, '.plan-payments')
  expect(wxFake.navigations).toEqual([`/pages/staff/plan-payments/index?id=1&title=${encodeURIComponent('3栋加装电梯出资方案')}`])
})

test('no plan in scope says so', async () => {
  wxFake.route('GET', '/me', answer(COMMITTEE))
  wxFake.route('GET', '/consultations', answer(LIST))
  const page = await open('pages/staff/index')
  expect(text(page)).toContain('您的范围内还没有出资方案。')
})

test('projects and surveys for those who watch them; the figures of each place a role reads', async () => {
  wxFake.route('GET', '/me', px.reply('me_street'))
  wxFake.route('GET', '/consultations', answer([]))
  const page = await open('pages/staff/index')
  expect(page.querySelectorAll('.stats').map((b) => b.dom.textContent.trim())).toEqual(['效果评价统计 · 东风街道'])
  await tap(page, '.projects')
  await tap(page, '.stats')
  expect(wxFake.navigations).toEqual(['/pages/staff/projects/index', `/pages/staff/stats/index?node=street%3A${px.ids.street}`])
})

test('a committee reads its compound\'s figures; a grid worker has the projects but no figures', async () => {
  wxFake.route('GET', '/me', px.reply('me_committee'))
  wxFake.route('GET', '/consultations', answer([]))
  let page = await open('pages/staff/index')
  expect(page.querySelectorAll('.stats').map((b) => b.dom.textContent.trim())).toEqual(['效果评价统计 · 阳光里小区'])
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  page = await open('pages/staff/index')
  expect(find(page, '.projects')).toBeTruthy()
  expect(find(page, '.stats')).toBeFalsy()
})

test('a representative is told where the acceptance is signed, and sees no staff lists', async () => {
  wxFake.route('GET', '/me', px.reply('me_rep0'))
  const page = await open('pages/staff/index')
  expect(find(page, '.resident-roles').dom.textContent).toContain('居民代表：项目进入竣工验收后，在首页的改造项目中签署验收。')
  expect(find(page, '.projects')).toBeFalsy()
  expect(find(page, '.stats')).toBeFalsy()
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/me'])
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', '/me', answer(GRID_WORKER))
  wxFake.route('GET', '/consultations', answer(LIST))
  wxFake.route('GET', '/plans', answer(PLANS))
  const page = await open('pages/staff/index')
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})
