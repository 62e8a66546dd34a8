// A plan's tally for staff: target, pledged and paid by item, method, building and unit; the
// funding rule part by part with what is missing; outcome and refunds once closed; open and close
// as the backend allows; the door-visit list; the ledger opened as a workbook.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')

const { answer, refused } = fx

function routes(plan = fx.plan(), tally = fx.tally()) {
  wxFake.route('GET', '/plans/1', answer(plan))
  wxFake.route('GET', '/plans/1/tally', answer(tally))
}

const CLOSED = fx.plan({ status: 'not_funded', status_name: '已截止·未达成', accepting: false, closed_at: '2026-12-08T11:54:30Z',
  outcome: { funded: false, decided_at: '2026-12-08T11:54:30Z' } })
const CLOSED_TALLY = fx.tally({
  plan: { id: 1, status: 'not_funded', digest: '7542e07a79b8fac045a3ea9bf10b4b89b0c1cf4d7558a4c500f6ba2ab6a45080' },
  totals: { due_fen: 41000001, pledged_fen: 15055116, paid_fen: 100000, refunded_fen: 0, net_paid_fen: 100000 },
  outcome: { funded: false, decided_at: '2026-12-08T11:54:30Z', digest: '7542e07a79b8fac045a3ea9bf10b4b89b0c1cf4d7558a4c500f6ba2ab6a45080', pledged_fen: 15055116 },
  refunds_due: [{ flat_id: 5, room: '3栋1单元301', pledge_id: 1, net_paid_fen: 100000 }],
})

test('the tally: the rule part by part with what is missing, totals, items, methods, flats, buildings', async () => {
  routes()
  const page = await open('pages/staff/plan/index', { id: '1', title: encodeURIComponent('3栋加装电梯出资方案') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1', '/plans/1/tally'])
  const shown = text(page)
  expect(shown).toContain('阳光里小区3栋 · 认筹中')
  expect(shown).toContain('出资规则：每个必选项目的承诺金额不低于居民分摊额；承诺户数不少于应分摊户数的 2/3')
  expect(find(page, '.verdict').dom.textContent).toContain('✗ 按目前的承诺，出资规则尚未达到')
  expect(page.querySelectorAll('.missing-line').map((n) => n.dom.textContent.trim())).toEqual([
    '还差：「1单元加装电梯」还差 333,988.21 元', '还差：还差 10 户承诺（已 1 户，需 11 户）',
  ])
  expect(page.querySelectorAll('.part-text').map((n) => n.dom.textContent.trim())).toEqual([
    '✗ 每个必选项目的承诺金额不低于居民分摊额', '✗ 承诺户数不少于应分摊户数的 2/3（11 户）',
  ])
  expect(page.querySelectorAll('.part-missing').map((n) => n.dom.textContent.trim())).toEqual([
    '「1单元加装电梯」还差 333,988.21 元', '还差 10 户承诺（已 1 户，需 11 户）',
  ])
  expect(shown).toContain('已承诺 ¥66,071.79 / 目标 ¥410,000.01')
  expect(shown).toContain('目标（居民分摊合计）¥410,000.01，其中必选项目 ¥400,000.00')
  expect(shown).toContain('已缴 ¥0.00 · 已退 ¥0.00 · 实收 ¥0.00')
  expect(shown).toContain('承诺户数 1 / 应分摊 16 户（共 16 户），已缴清 0 户')
  expect(shown).toContain('承诺业主 1 / 16 人')
  expect(shown).toContain('承诺面积 84.00 / 1400.00 m²')
  expect(shown).toContain('1单元加装电梯（必选）')
  expect(shown).toContain('居民分摊 ¥400,000.00（造价 ¥600,000.00 − 补贴 ¥200,000.00）')
  expect(shown).toContain('已承诺 ¥66,011.79 · 1 户')
  expect(shown).toContain('已缴 ¥0.00 · 还差 ¥333,988.21')
  expect(shown).toContain('投工投劳：承诺 ¥60.00，已缴 ¥0.00')
  expect(shown).toContain('承诺 1 / 16 户 · 应缴 ¥410,000.01 · 已承诺 ¥66,071.79 · 已缴 ¥0.00')
  expect(shown).toContain('3栋2单元')
  expect(shown).toContain('承诺 0 / 8 户 · 应缴 ¥5,000.00 · 已承诺 ¥0.00 · 已缴 ¥0.00')
  expect(find(page, '.close-plan')).toBeTruthy()
  expect(find(page, '.open-plan')).toBeFalsy()
  expect(find(page, '.refunds')).toBeFalsy()
})

test('a rule that is met reads so', async () => {
  routes(fx.plan(), fx.tally({
    funded: true, still_missing: [],
    parts: fx.tally().parts.map((p) => ({ ...p, met: true, missing: '' })),
  }))
  const page = await open('pages/staff/plan/index', { id: '1' })
  expect(find(page, '.verdict').dom.textContent).toContain('✓ 按目前的承诺，出资规则已全部达到')
  expect(find(page, '.part-missing')).toBeFalsy()
  expect(find(page, '.missing-line')).toBeFalsy()
})

test('a closed plan that was not funded: the outcome and the refunds due, no buttons to open or close', async () => {
  routes(CLOSED, CLOSED_TALLY)
  const page = await open('pages/staff/plan/index', { id: '1' })
  const shown = text(page)
  expect(find(page, '.verdict').dom.textContent).toContain('✗ 已截止：未达成出资规则')
  expect(shown).toContain('2026-12-08 19:54 截止时承诺合计 ¥150,551.16')
  expect(find(page, '.refunds').dom.textContent).toContain('3栋1单元301：应退 ¥1,000.00')
  expect(find(page, '.close-plan')).toBeFalsy()
  expect(find(page, '.open-plan')).toBeFalsy()
})

test('closing asks first, then closes and shows the stored outcome', async () => {
  routes()
  wxFake.route('POST', '/plans/1/close', () => { routes(CLOSED, CLOSED_TALLY); return answer(CLOSED)() })
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.close-plan')
  expect(wxFake.toasts[0]).toContain('截止后不再接受出资承诺')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/plans/1/close'])
  expect(find(page, '.verdict').dom.textContent).toContain('✗ 已截止：未达成出资规则')
})

test('closing cancelled sends nothing', async () => {
  routes()
  wx.showModal = (o) => o.success({ confirm: false, cancel: true })
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.close-plan')
  expect(wxFake.calls.filter((c) => c.method === 'POST')).toEqual([])
})

test('a grid worker may not close: the backend\'s 403 is shown', async () => {
  routes()
  wxFake.route('POST', '/plans/1/close', refused(403, 'forbidden', '您不能截止出资方案，请由本范围的业委会或社区工作人员操作',
    { allowed_roles: ['committee', 'community_staff'] }))
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.close-plan')
  expect(find(page, '.action-error').dom.textContent).toContain('⚠ 您不能截止出资方案，请由本范围的业委会或社区工作人员操作')
  expect(find(page, '.close-plan')).toBeTruthy()
})

test('a draft shows its items and opens; a refusal (409) is shown as the backend words it', async () => {
  const draft = fx.plan({ status: 'draft', status_name: '草稿', accepting: false, opened_at: null, digest: null })
  wxFake.route('GET', '/plans/1', answer(draft))
  wxFake.route('POST', '/plans/1/open', refused(409, 'deadline_passed', '截止时间已过，请重新创建方案'))
  const page = await open('pages/staff/plan/index', { id: '1' })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1']) // a draft has no tally
  expect(text(page)).toContain('1单元加装电梯（必选）：居民分摊 ¥400,000.00，按楼层系数 × 专有面积分摊')
  expect(text(page)).toContain('方案尚未开始认筹：开始后才有统计、未承诺住户和台账。')
  await tap(page, '.open-plan')
  expect(find(page, '.action-error').dom.textContent).toContain('⚠ 截止时间已过，请重新创建方案')
  wxFake.route('POST', '/plans/1/open', () => { routes(); return answer(fx.plan())() })
  await tap(page, '.open-plan')
  expect(find(page, '.verdict')).toBeTruthy()
  expect(find(page, '.action-error')).toBeFalsy()
})

test('the door-visit list: flats with no pledge, by building and unit, contacts masked', async () => {
  routes()
  wxFake.route('GET', '/plans/1/pending-flats', answer(fx.PENDING))
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.pending')
  const shown = text(page)
  expect(shown).toContain('共 3 户尚未承诺')
  expect(shown).toContain('3栋1单元：未承诺 2 户')
  expect(shown).toContain('201 室 · 2 层 · 82.00 m² · 应缴 ¥48,955.06')
  expect(shown).toContain('业主 业** · 139****0007')
  expect(shown).toContain('3栋2单元：未承诺 1 户')
  expect(shown).toContain('开发商持有（未售或未交付）')
  expect(shown).toContain('只显示部分号码')
})

test('the ledger is downloaded and opened as a workbook', async () => {
  routes()
  wxFake.route('GET', '/plans/1/ledger.xlsx', () => ({ status: 200, file: '/tmp/ledger-1.xlsx' }))
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.ledger')
  expect(wxFake.calls.filter((c) => c.download).map((c) => c.path)).toEqual(['/plans/1/ledger.xlsx'])
  expect(wxFake.documents).toEqual([{ filePath: '/tmp/ledger-1.xlsx', fileType: 'xlsx' }])
})

test('a ledger that cannot be fetched says so', async () => {
  routes()
  wxFake.route('GET', '/plans/1/ledger.xlsx', () => ({ status: 500 }))
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.ledger')
  expect(find(page, '.ledger-error').dom.textContent).toContain('⚠ 服务暂时不可用，请稍后再试')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/plans/1', refused(404, 'not_found', '没有找到该出资方案'))
  const page = await open('pages/staff/plan/index', { id: '1' })
  expect(text(page)).toContain('⚠ 没有找到该出资方案')
  routes()
  await tap(page, '.retry')
  expect(find(page, '.verdict')).toBeTruthy()
})

test('in large type every text of the page reads at least 18px', async () => {
  routes(CLOSED, CLOSED_TALLY)
  wxFake.route('GET', '/plans/1/pending-flats', answer(fx.PENDING))
  const page = await open('pages/staff/plan/index', { id: '1' })
  await tap(page, '.pending')
  expect(await expectLargeType(page)).toBeGreaterThan(20)
})
