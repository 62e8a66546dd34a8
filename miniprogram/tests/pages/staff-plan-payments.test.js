// Payments and refunds: the pledges that count with what is paid; a payment or refund for one of
// them, the amount typed in yuan and sent in fen exactly; the backend's refusals shown as it words them.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')
const { beijingDate } = require('../../utils/format')

const { answer, refused } = fx

const PAID = fx.pledge({
  state: 'partly_paid', state_name: '部分缴纳', paid_fen: 123456,
  payments: [{ ...fx.PAYMENT, amount_fen: 123456, allocation: { elevator1: 123456 }, reference: 'GJJ-001', paid_on: '2026-11-27', has_photo: false }],
})

function routes(plan = fx.plan(), list = [fx.pledge({ payments: [fx.PAYMENT], paid_fen: 100000, state: 'partly_paid', state_name: '部分缴纳' })]) {
  wxFake.route('GET', '/plans/1', answer(plan))
  wxFake.route('GET', '/plans/1/pledges', answer(list))
}

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST')
}

async function fill(page, amount) {
  await tap(page, '.select')
  page.instance.inputAmount({ detail: { value: amount } })
  await settle()
}

test('lists the pledges that count, with total, paid, state and payments', async () => {
  routes()
  const page = await open('pages/staff/plan-payments/index', { id: '1', title: encodeURIComponent('3栋加装电梯出资方案') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1', '/plans/1/pledges'])
  const shown = text(page)
  expect(shown).toContain('共 1 户承诺，已缴清 0 户 · 认筹中')
  expect(shown).toContain('3栋1单元301')
  expect(shown).toContain('承诺 ¥66,071.79 · 已缴 ¥1,000.00')
  expect(shown).toContain('部分缴纳')
  expect(shown).toContain('回执码 9XCFVAZB84NF · 线上签署')
  expect(shown).toContain('缴款 ¥1,000.00 · 直接缴纳 · 2026-11-20 · 凭证号 X1')
})

test.each([
  ['1234.56', 123456],
  ['0.1', 10],
  ['12', 1200],
])('"%s" yuan is recorded as exactly %i fen, with the method, today\'s date and a key', async (typed, fen) => {
  routes()
  wxFake.route('POST', '/pledges/1/payments', answer(PAID, 201))
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, typed)
  expect(text(page)).toContain(`缴款日期：${beijingDate()}`)
  await tap(page, '.record')
  const [post] = posts()
  expect(post.path).toBe('/pledges/1/payments')
  expect(post.data).toEqual({ amount_fen: fen, method: 'direct', paid_on: beijingDate(), reference: '' })
  expect(Number.isInteger(post.data.amount_fen)).toBe(true)
  expect(post.header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
})

test.each([
  ['1.234', '金额最多到分（小数点后两位）'],
  ['-1', '金额不能为负数'],
  ['abc', '请输入数字金额，例如 1234.56'],
  ['', '请输入金额'],
  ['0', '金额应大于 0'],
])('"%s" is refused in Chinese and nothing is sent', async (typed, message) => {
  routes()
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, typed)
  await tap(page, '.record')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ ' + message)
  expect(posts()).toEqual([])
})

test('a payment with method, date, reference and photo; the pledge is shown as the backend answers it', async () => {
  routes()
  wxFake.route('POST', '/pledges/1/payments', answer(PAID, 201))
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, '1234.56')
  await tap(page, '.method') // the first: 直接缴纳
  page.instance.pickMethod({ currentTarget: { dataset: { method: 'provident_fund' } } })
  page.instance.pickDate({ detail: { value: '2026-11-27' } })
  page.instance.inputReference({ detail: { value: ' GJJ-001 ' } })
  await tap(page, '.photo')
  expect(text(page)).toContain('✓ 已拍摄凭证照片')
  expect(text(page)).toContain('缴款日期：2026-11-27')
  await tap(page, '.record')
  expect(posts()[0].data).toEqual({ amount_fen: 123456, method: 'provident_fund', paid_on: '2026-11-27', reference: 'GJJ-001', photo: 'aGVsbG8=' })
  expect(wxFake.toasts).toEqual(['已登记'])
  expect(find(page, '.recorded').dom.textContent).toContain('✓ 已登记3栋1单元301缴款 ¥1,234.56。该户已缴 ¥1,234.56（部分缴纳）。')
  expect(text(page)).toContain('缴款 ¥1,234.56 · 直接缴纳 · 2026-11-27 · 凭证号 GJJ-001')
  expect(find(page, '.record')).toBeFalsy() // the form closed
})

test('paying more than pledged: the backend\'s overpayment message is shown', async () => {
  routes()
  wxFake.route('POST', '/pledges/1/payments', refused(422, 'overpayment', '超额缴纳：该户承诺 66,071.79 元，已缴 1,000.00 元，本次最多可登记 65,071.79 元',
    { amount_fen: ['最多 6507179'], available_fen: 6507179 }))
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, '99999')
  await tap(page, '.record')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 超额缴纳：该户承诺 66,071.79 元，已缴 1,000.00 元，本次最多可登记 65,071.79 元')
  expect(find(page, '.form-error').dom.textContent).not.toContain('可再次提交')
})

test('a refund goes to /refunds; a plan not funded starts the form on refunds', async () => {
  routes(fx.plan({ status: 'not_funded', status_name: '已截止·未达成', accepting: false }))
  wxFake.route('POST', '/pledges/1/refunds', answer(fx.pledge({ state: 'refunded', state_name: '已退款', paid_fen: 0, refunded_fen: 100000,
    payments: [fx.PAYMENT, { ...fx.PAYMENT, id: 2, kind: 'refund', kind_name: '退款', reference: '', has_photo: false }] }), 201))
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, '1000')
  expect(page.instance.data.kind).toBe('refund')
  expect(text(page)).toContain('退款日期')
  await tap(page, '.record')
  expect(posts().map((c) => [c.path, c.data.amount_fen])).toEqual([['/pledges/1/refunds', 100000]])
  expect(text(page)).toContain('✓ 已登记3栋1单元301退款 ¥1,000.00。该户已缴 ¥0.00（已退款）。')
})

test('a recording that met a network failure is sent again with the same key; a changed amount gets a new one', async () => {
  routes()
  wxFake.route('POST', '/pledges/1/payments', () => 'fail')
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, '12')
  await tap(page, '.record')
  expect(find(page, '.form-error').dom.textContent).toContain('（可再次提交）')
  await tap(page, '.record')
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(4)
  expect(new Set(keys).size).toBe(1)
  page.instance.inputAmount({ detail: { value: '13' } })
  await tap(page, '.record')
  expect(posts()[posts().length - 1].header['Idempotency-Key']).not.toBe(keys[0])
})

test('a voucher photo opens', async () => {
  routes()
  wxFake.route('GET', '/payments/1/photo', () => ({ status: 200, file: '/tmp/voucher-1.jpg' }))
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await tap(page, '.view-photo')
  expect(wxFake.navigations).toEqual(['preview:/tmp/voucher-1.jpg'])
})

test('no pledge yet says so; a failure shows a retry', async () => {
  routes(fx.plan(), [])
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  expect(text(page)).toContain('您范围内还没有计入统计的出资承诺。')
  wxFake.route('GET', '/plans/1/pledges', refused(403, 'forbidden', '仅限工作人员操作'))
  await page.instance.load()
  await settle()
  expect(text(page)).toContain('⚠ 仅限工作人员操作')
  routes()
  await tap(page, '.retry')
  expect(text(page)).toContain('3栋1单元301')
})

test('in large type every text of the page reads at least 18px', async () => {
  routes()
  const page = await open('pages/staff/plan-payments/index', { id: '1' })
  await fill(page, '12')
  await tap(page, '.photo')
  expect(await expectLargeType(page)).toBeGreaterThan(12)
})
