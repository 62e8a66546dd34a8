// Paper pledges: entering one for a flat that has not pledged (its items and amounts from what it
// owes, a photo of the sheet) under a kept Idempotency-Key, and a second staff member confirming it.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')

const { answer, refused } = fx

const ENTERED = { id: 4, receipt: 'Q4TZ8M2KXN6R', status: 'unconfirmed', status_name: '纸质承诺待第二名工作人员确认', total_fen: 8447937 }

function routes(plan = fx.plan(), list = [fx.paperPledge()]) {
  wxFake.route('GET', '/plans/1', (req) => (req.path.includes('flat_id=7') ? answer(fx.staffForFlat7())() : answer(plan)()))
  wxFake.route('GET', '/plans/1/paper-pledges', answer(list))
  wxFake.route('GET', '/plans/1/pending-flats', answer(fx.PENDING))
}

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST')
}

async function fillForm(page) {
  await page.instance.pickFlat({ detail: { value: '1' } }) // 3栋1单元401, flat 7
  await settle()
  await tap(page, '.photo')
}

test('lists the paper pledges with their state, and the form to enter one', async () => {
  routes()
  const page = await open('pages/staff/plan-paper/index', { id: '1', title: encodeURIComponent('3栋加装电梯出资方案') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1', '/plans/1/paper-pledges', '/plans/1/pending-flats'])
  const shown = text(page)
  expect(shown).toContain('已录入的纸质承诺（1）')
  expect(shown).toContain('3栋1单元401 · 承诺 ¥84,479.37')
  expect(shown).toContain('⋯ 待第二名工作人员确认')
  expect(shown).toContain('1单元加装电梯：直接缴纳 ¥84,479.37')
  expect(shown).toContain('录入时间：2026年11月28日 19:54 · 回执码 PSPCFVGT597P')
  expect(shown).toContain('录入纸质承诺书')
  expect(page.instance.data.flatNames).toEqual(['3栋1单元201（应缴 ¥48,955.06）', '3栋1单元401（应缴 ¥85,104.37）', '3栋2单元101（应缴 ¥625.00）'])
  expect(page.querySelectorAll('.confirm').length).toBe(1)
})

test('picking a flat brings its items and amounts; entering sends them with the photo and a key', async () => {
  routes()
  wxFake.route('POST', '/plans/1/paper-pledges', answer(ENTERED, 201))
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await fillForm(page)
  expect(wxFake.calls.map((c) => c.path)).toContain('/plans/1?flat_id=7')
  expect(text(page)).toContain('房屋：3栋1单元401（应缴 ¥85,104.37）')
  expect(text(page)).toContain('应缴 ¥84,479.37，可以多出，不能少于应缴')
  expect(page.instance.data.rows.map((r) => [r.key, r.included, r.amountText])).toEqual([['elevator1', true, '84479.37'], ['greening', false, '625.00']])
  // the sheet says: the optional item too, by provident fund, ¥500 (less is allowed there)
  await tap(page, '.toggle')
  page.instance.pickMethod({ currentTarget: { dataset: { key: 'greening', method: 'provident_fund' } } })
  page.instance.inputAmount({ currentTarget: { dataset: { key: 'greening' } }, detail: { value: '500' } })
  await settle()
  expect(find(page, '.form-total').dom.textContent).toContain('承诺合计：¥84,979.37')
  expect(text(page)).toContain('✓ 已拍摄照片')
  await tap(page, '.enter')
  const [post] = posts()
  expect(post.path).toBe('/plans/1/paper-pledges')
  expect(post.data).toEqual({
    flat_id: 7, photo: 'aGVsbG8=',
    lines: [{ item: 'elevator1', method: 'direct', amount_fen: 8447937 }, { item: 'greening', method: 'provident_fund', amount_fen: 50000 }],
  })
  expect(post.header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(wxFake.toasts).toEqual(['已录入'])
  expect(text(page)).toContain('✓ 已录入 3栋1单元401，承诺 ¥84,479.37，回执码 Q4TZ8M2KXN6R。需另一名工作人员确认后才计入统计。')
  expect(page.instance.data.flatIndex).toBe(-1) // the form is clear for the next sheet
})

test('an entry that failed is sent again with the same key; the next entry gets a new one', async () => {
  routes()
  wxFake.route('POST', '/plans/1/paper-pledges', () => 'fail')
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await fillForm(page)
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试（可再次提交）')
  wxFake.route('POST', '/plans/1/paper-pledges', answer(ENTERED, 201))
  await tap(page, '.enter')
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(text(page)).toContain('回执码 Q4TZ8M2KXN6R')
  await fillForm(page)
  await tap(page, '.enter')
  expect(posts()[posts().length - 1].header['Idempotency-Key']).not.toBe(keys[0])
})

test('nothing is sent until the flat, its lines and the photo are right', async () => {
  routes()
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请选择房屋')
  await page.instance.pickFlat({ detail: { value: '1' } })
  page.instance.inputAmount({ currentTarget: { dataset: { key: 'elevator1' } }, detail: { value: '1.234' } })
  await tap(page, '.enter')
  expect(find(page, '.form-error').dom.textContent).toContain('「1单元加装电梯」：金额最多到分（小数点后两位）')
  page.instance.inputAmount({ currentTarget: { dataset: { key: 'elevator1' } }, detail: { value: '84479.37' } })
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请拍摄纸质承诺书照片')
  expect(posts()).toEqual([])
})

test('a second staff member confirms an entered pledge', async () => {
  routes()
  wxFake.route('POST', '/paper-pledges/2/confirm', answer({ id: 2, receipt: 'PSPCFVGT597P', status: 'current', status_name: '有效（计入统计）', total_fen: 8447937 }))
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await tap(page, '.confirm')
  expect(posts().map((c) => c.path)).toEqual(['/paper-pledges/2/confirm'])
  expect(wxFake.toasts).toEqual(['已确认'])
  expect(find(page, '.confirm')).toBeFalsy()
  expect(find(page, '.status').dom.textContent).toBe('✓ 已确认，计入统计')
})

test('the one who entered a pledge cannot confirm it: the backend\'s 403 is shown', async () => {
  routes()
  wxFake.route('POST', '/paper-pledges/2/confirm', refused(403, 'same_person', '录入人不能确认自己录入的纸质承诺，请由另一名工作人员确认'))
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await tap(page, '.confirm')
  expect(find(page, '.pledge-error').dom.textContent).toContain('⚠ 录入人不能确认自己录入的纸质承诺，请由另一名工作人员确认')
  expect(text(page)).toContain('⋯ 待第二名工作人员确认')
})

test('the confirmer opens the photo of the sheet', async () => {
  routes()
  wxFake.route('GET', '/paper-pledges/2/photo', () => ({ status: 200, file: '/tmp/paper-2.jpg' }))
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await tap(page, '.view-photo')
  expect(wxFake.calls.filter((c) => c.download).map((c) => [c.path, c.header.Authorization])).toEqual([['/paper-pledges/2/photo', 'Bearer token-0']])
  expect(wxFake.navigations).toEqual(['preview:/tmp/paper-2.jpg'])
})

test('a closed plan lists its paper pledges without the form and without asking for flats', async () => {
  routes(fx.plan({ status: 'funded', status_name: '已截止·资金已落实', accepting: false }),
    [fx.paperPledge({ status: 'current', status_name: '有效（计入统计）', state: 'pledged', state_name: '已承诺·未缴' })])
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1', '/plans/1/paper-pledges'])
  expect(find(page, '.enter')).toBeFalsy()
  expect(text(page)).toContain('✓ 已确认，计入统计')
})

test('a failure shows the message and a retry that loads again', async () => {
  routes()
  wxFake.route('GET', '/plans/1/paper-pledges', refused(404, 'not_found', '没有找到该出资方案'))
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  expect(text(page)).toContain('⚠ 没有找到该出资方案')
  routes()
  await tap(page, '.retry')
  expect(text(page)).toContain('已录入的纸质承诺（1）')
})

test('in large type every text of the page reads at least 18px', async () => {
  routes()
  const page = await open('pages/staff/plan-paper/index', { id: '1' })
  await fillForm(page)
  await tap(page, '.toggle')
  expect(await expectLargeType(page)).toBeGreaterThan(15)
})
