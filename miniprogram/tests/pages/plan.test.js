// A contribution plan for one flat: the items, the flat's amount per item and how it was computed;
// an owner's pledge (required items always, optional ones chosen, a method each, amounts from what is
// due), signed by hand, sent once under a kept Idempotency-Key; family members and tenants only see.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')

const { answer, refused } = fx

function serve(plan) {
  wxFake.route('GET', '/plans/1', answer(plan))
}

function pledges() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/plans/1/pledges')
}

async function sign(page) {
  const pad = find(page, '.signature').querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [{ x: 20, y: 80 }] })
  pad.dispatchEvent('touchmove', { touches: [{ x: 90, y: 30 }] })
  pad.dispatchEvent('touchend', {})
  await settle()
}

// From the form to a signed submission.
async function signAndSubmit(page) {
  await tap(page, '.next')
  await sign(page)
  await tap(page, '.submit')
}

function rowEvent(key, value) {
  return { currentTarget: { dataset: { key } }, detail: { value } }
}

test('shows the plan, each item, the flat\'s amount per item with how it was computed, and the rounding rule', async () => {
  serve(fx.forFlat('owner'))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1?flat_id=5', '/subscriptions']) // the consent templates, for an owner who may pledge
  const shown = text(page)
  expect(shown).toContain('3栋加装电梯出资方案')
  expect(shown).toContain('阳光里小区3栋 · 认筹中')
  expect(shown).toContain('截止时间：2026年12月8日 19:54') // Beijing time
  expect(shown).toContain('按楼层系数分摊，一楼免于分摊。')
  // the items
  expect(shown).toContain('1单元加装电梯必选')
  expect(shown).toContain('造价 ¥600,000.00')
  expect(shown).toContain('减 政府补贴 ¥200,000.00')
  expect(shown).toContain('居民分摊 ¥400,000.00')
  expect(shown).toContain('分摊标准：按楼层系数 × 专有面积分摊：1层 0，2层 0.6，3层 0.8，4层 1.0（系数 0 的楼层免于分摊）')
  expect(shown).toContain('楼道美化自选')
  expect(shown).toContain('出资方式：直接缴纳、住房公积金、投工投劳')
  expect(shown).toContain('投工投劳每小时折合 ¥30.00')
  // my amounts, explained in words
  expect(shown).toContain('本户应缴：3栋1单元301')
  expect(shown).toContain('3 层 · 专有面积 84.00 m²')
  expect(page.querySelectorAll('.my-amount').map((n) => n.dom.textContent.trim())).toEqual([
    '1单元加装电梯（必选）：¥66,011.79', '楼道美化（自选）：¥625.00',
  ])
  expect(shown).toContain('怎么算的：' + fx.ELEVATOR_EXPLANATION)
  expect(shown).toContain('怎么算的：' + fx.GREENING_EXPLANATION)
  expect(shown).toContain('合计应缴 ¥66,636.79')
  expect(shown).toContain('取整规则：' + fx.ROUNDING)
  expect(shown).toContain('⋯ 本户尚未承诺出资')
})

test('the owner\'s form: the required item is always in, the optional one is chosen, amounts start at what is due', async () => {
  serve(fx.forFlat('owner'))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('填写出资承诺')
  const lines = page.querySelectorAll('.line')
  expect(lines.length).toBe(2)
  expect(lines[0].dom.textContent).toContain('必选项目，已包含')
  expect(page.querySelectorAll('.toggle').length).toBe(1) // the required item has nothing to untick
  expect(lines[0].dom.textContent).toContain('应缴 ¥66,011.79，可以多出，不能少于应缴')
  expect(page.instance.data.rows.map((r) => [r.key, r.included, r.method, r.amountText])).toEqual([
    ['elevator1', true, 'direct', '66011.79'], ['greening', false, 'direct', '625.00'],
  ])
  expect(lines[1].dom.textContent).toContain('不参加此项（点此参加）')
  expect(lines[1].dom.textContent).toContain('应缴 ¥625.00，本项可以多出也可以少出')
  expect(find(page, '.form-total').dom.textContent).toContain('承诺合计：¥66,011.79')
  // a required item cannot be left out, even when asked
  page.instance.toggleItem({ currentTarget: { dataset: { key: 'elevator1' } } })
  await settle()
  expect(page.instance.data.rows[0].included).toBe(true)
})

test('an owner signs the default pledge: the required item, its method, the amount due, the signature, a key; then the receipt', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await tap(page, '.next')
  expect(text(page)).toContain('请核对后签名')
  expect(text(page)).toContain('1单元加装电梯：直接缴纳 ¥66,011.79')
  expect(find(page, '.submit').dom.textContent).toContain('签名后才能提交')
  await sign(page)
  expect(pledges()).toHaveLength(0) // nothing is sent before the tap
  await tap(page, '.submit')
  expect(pledges()).toHaveLength(1)
  expect(pledges()[0].data).toEqual({
    flat_id: 5, lines: [{ item: 'elevator1', method: 'direct', amount_fen: 6601179 }], signature: 'aGVsbG8=',
  })
  expect(pledges()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  const shown = text(page)
  expect(shown).toContain('✓ 出资承诺已提交')
  expect(shown).toContain('9XCFVAZB84NF')
  expect(shown).toContain('承诺合计 ¥66,011.79')
  expect(shown).toContain('有效（计入统计）')
})

test('an optional item by labour: hours × the hourly rate, shown and sent; the amount may go up', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', answer({ ...fx.RECEIPT, total_fen: 7006000 }, 201))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(page.querySelectorAll('.toggle').length).toBe(1) // the optional item's only
  await tap(page, '.toggle')
  expect(page.querySelectorAll('.line')[1].dom.textContent).toContain('✓ 参加此项（点此不参加）')
  page.instance.pickMethod({ currentTarget: { dataset: { key: 'greening', method: 'labour' } } })
  page.instance.inputHours(rowEvent('greening', '2'))
  page.instance.inputAmount(rowEvent('elevator1', '70000'))
  await settle()
  expect(text(page)).toContain('投工 2 小时 × ¥30.00/小时 = ¥60.00')
  expect(find(page, '.form-total').dom.textContent).toContain('承诺合计：¥70,060.00')
  await signAndSubmit(page)
  expect(pledges()[0].data.lines).toEqual([
    { item: 'elevator1', method: 'direct', amount_fen: 7000000 },
    { item: 'greening', method: 'labour', amount_fen: 6000, hours: 2 },
  ])
})

test('less than due on a required item is refused before anything is sent; labour without hours too', async () => {
  serve(fx.forFlat('owner'))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  page.instance.inputAmount(rowEvent('elevator1', '100'))
  await settle()
  expect(text(page)).toContain('⚠ 「1单元加装电梯」应缴 ¥66,011.79，本项不能少于应缴金额')
  await tap(page, '.next')
  expect(find(page, '.form-error').dom.textContent).toContain('「1单元加装电梯」应缴 ¥66,011.79，本项不能少于应缴金额')
  expect(find(page, '.signature')).toBeFalsy()
  page.instance.inputAmount(rowEvent('elevator1', '66011.789'))
  await settle()
  expect(text(page)).toContain('「1单元加装电梯」：金额最多到分（小数点后两位）')
  page.instance.inputAmount(rowEvent('elevator1', '66011.79'))
  page.instance.pickMethod({ currentTarget: { dataset: { key: 'elevator1', method: 'labour' } } })
  await settle()
  await tap(page, '.next')
  expect(find(page, '.form-error').dom.textContent).toContain('请填写「1单元加装电梯」的投工工时')
  page.instance.inputHours(rowEvent('elevator1', '8'))
  await settle()
  expect(text(page)).toContain('投工 8 小时 × ¥30.00/小时 = ¥240.00')
  expect(text(page)).toContain('应缴 ¥66,011.79，本项不能少于应缴金额，请增加工时或换一种出资方式')
  // the optional item may go below what is due
  page.instance.pickMethod({ currentTarget: { dataset: { key: 'elevator1', method: 'direct' } } })
  page.instance.toggleItem({ currentTarget: { dataset: { key: 'greening' } } })
  page.instance.inputAmount(rowEvent('greening', '100'))
  await settle()
  expect(page.instance.data.rows[1].problem).toBe('')
  expect(pledges()).toEqual([])
})

test('a first-floor flat exempt from the elevator: nothing to pledge there, so an optional item or an amount', async () => {
  const plan = fx.forFlat('owner')
  plan.flat = {
    ...plan.flat, room: '3栋1单元101', floor: 1, area: '80.00', due_fen: 62501,
    items: [
      { item: 'elevator1', name: '1单元加装电梯', required: true, amount_fen: 0, weight: '0', explanation: '1 层系数为 0，免于分摊' },
      { item: 'greening', name: '楼道美化', required: false, amount_fen: 62501, weight: '1', explanation: fx.GREENING_EXPLANATION },
    ],
  }
  serve(plan)
  wxFake.route('POST', '/plans/1/pledges', answer({ ...fx.RECEIPT, total_fen: 62501 }, 201))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('1单元加装电梯（必选）：¥0.00')
  expect(text(page)).toContain('怎么算的：1 层系数为 0，免于分摊')
  expect(text(page)).toContain('本户免于分摊此项（应缴 ¥0.00）；如愿出资，可以填写金额')
  expect(page.instance.data.rows[0].amountText).toBe('0.00')
  await tap(page, '.next')
  expect(find(page, '.form-error').dom.textContent).toContain('承诺金额合计为 0：本户在所选项目中免于分摊。如愿出资，请选择自选项目或填写金额')
  expect(pledges()).toEqual([])
  await tap(page, '.toggle')
  await signAndSubmit(page)
  expect(pledges()[0].data.lines).toEqual([
    { item: 'elevator1', method: 'direct', amount_fen: 0 }, { item: 'greening', method: 'direct', amount_fen: 62501 },
  ])
})

test('a network failure keeps the pledge and the signature and sends them again with the same key', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', () => 'fail')
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(text(page)).toContain('您填写的内容和签名都还在')
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  await tap(page, '.submit')
  expect(text(page)).toContain('✓ 出资承诺已提交')
  const keys = pledges().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(3) // the first try, request.js's own retry, the tap again
  expect(new Set(keys).size).toBe(1)
  expect(new Set(pledges().map((c) => JSON.stringify(c.data))).size).toBe(1)
})

test('going back to change the pledge makes it another request with another key', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', () => 'fail')
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  const first = pledges()[0].header['Idempotency-Key']
  await tap(page, '.back')
  page.instance.inputAmount(rowEvent('elevator1', '70000'))
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  await signAndSubmit(page)
  const last = pledges()[pledges().length - 1]
  expect(last.data.lines[0].amount_fen).toBe(7000000)
  expect(last.header['Idempotency-Key']).not.toBe(first)
})

test('below what is due, as the backend says it: its message at the form, to change and sign again', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', refused(422, 'below_due', '「1单元加装电梯」应缴 66,011.79 元，本方案不允许少于应缴金额',
    { lines: ['elevator1'], due_fen: 6601179 }))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 「1单元加装电梯」应缴 66,011.79 元，本方案不允许少于应缴金额')
  expect(find(page, '.next')).toBeTruthy() // the form is there to change
})

test('a signature the backend refuses: its message, and the owner signs again', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', refused(422, 'validation_error', '签名不是有效的图片', { 签名: ['格式无效'] }))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  expect(text(page)).toContain('⚠ 签名不是有效的图片')
  expect(find(page, '.signature')).toBeTruthy()
  expect(page.instance.data.signed).toBe(false)
})

test.each([
  [409, 'closed', '出资方案已截止，不能再承诺或修改承诺'],
  [403, 'not_owner', '只有业主本人（或其书面委托人）可以签署出资承诺；家庭成员和租户可以查看应缴金额'],
  [403, 'not_roll_owner', '您绑定时核对的业主与本方案登记的业主不一致，不能签署；如房屋已过户，请新业主重新绑定，或联系网格员核实'],
])('%i %s: the backend\'s message as is, and no form', async (status, code, message) => {
  serve(fx.forFlat('owner'))
  wxFake.route('POST', '/plans/1/pledges', refused(status, code, message))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  expect(find(page, '.refusal').dom.textContent).toContain('⚠ ' + message)
  expect(find(page, '.next')).toBeFalsy()
  expect(find(page, '.signature')).toBeFalsy()
})

test('a family member sees the amounts and that the flat pledged, and why they cannot sign', async () => {
  serve(fx.forFlat('family', fx.pledge()))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  const shown = text(page)
  expect(shown).toContain('1单元加装电梯（必选）：¥66,011.79')
  expect(shown).toContain('✓ 本户已承诺出资（已承诺·未缴）')
  expect(shown).not.toContain('9XCFVAZB84NF') // not the owner's pledge itself
  expect(shown).toContain('家庭成员可以查看本户应缴金额和是否已承诺')
  expect(find(page, '.line')).toBeFalsy()
  expect(find(page, '.next')).toBeFalsy()
  expect(find(page, '.remind-me')).toBeFalsy()
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/plans/1?flat_id=5']) // no consent to ask of them
})

test('an owner the backend will not let sign (the roll names another owner) is told why before signing', async () => {
  const shown = fx.forFlat('owner')
  shown.flat.cannot_pledge = '您绑定时核对的业主与本方案登记的业主不一致，不能签署；如房屋已过户，请新业主重新绑定，或联系网格员核实'
  serve(shown)
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('您绑定时核对的业主与本方案登记的业主不一致')
  expect(find(page, '.next')).toBeFalsy()
  expect(find(page, '.line')).toBeFalsy()
})

test('a tenant of a flat that has not pledged sees so, and no form', async () => {
  serve(fx.forFlat('tenant'))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('⋯ 本户尚未承诺出资')
  expect(text(page)).toContain('租户可以查看本户应缴金额和是否已承诺')
  expect(find(page, '.next')).toBeFalsy()
})

test('an owner who pledged sees the receipt, the state, the payments, opens the agreement, and may change it', async () => {
  serve(fx.forFlat('owner', fx.pledge({ state: 'partly_paid', state_name: '部分缴纳', paid_fen: 100000, payments: [fx.PAYMENT] })))
  wxFake.route('GET', '/pledges/1/agreement.pdf', () => ({ status: 200, file: '/tmp/agreement-1.pdf' }))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  const shown = text(page)
  expect(shown).toContain('✓ 本户已承诺出资 ¥66,071.79')
  expect(shown).toContain('回执码：9XCFVAZB84NF')
  expect(shown).toContain('有效（计入统计）')
  expect(shown).toContain('缴款情况：部分缴纳，已缴 ¥1,000.00')
  expect(shown).toContain('楼道美化：投工投劳 ¥60.00（投工 2 小时）')
  expect(shown).toContain('缴款 ¥1,000.00 · 直接缴纳 · 2026-11-20 · 凭证号 X1')
  expect(shown).toContain('修改出资承诺（截止前可修改，以最后一次为准）')
  // the form starts from the pledge
  expect(page.instance.data.rows.map((r) => [r.key, r.included, r.method, r.hoursText])).toEqual([
    ['elevator1', true, 'direct', ''], ['greening', true, 'labour', '2'],
  ])
  await tap(page, '.agreement')
  const fetched = wxFake.calls.filter((c) => c.download)
  expect(fetched.map((c) => [c.path, c.header.Authorization])).toEqual([['/pledges/1/agreement.pdf', 'Bearer token-0']])
  expect(wxFake.documents).toEqual([{ filePath: '/tmp/agreement-1.pdf', fileType: 'pdf' }])
})

test('an agreement that cannot be fetched says so', async () => {
  serve(fx.forFlat('owner', fx.pledge()))
  wxFake.route('GET', '/pledges/1/agreement.pdf', () => 'fail')
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await tap(page, '.agreement')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(wxFake.documents).toEqual([])
})

test('a closed plan shows its outcome and takes no pledge', async () => {
  serve(fx.forFlat('owner', fx.pledge(), {
    status: 'not_funded', status_name: '已截止·未达成', accepting: false, closed_at: '2026-12-08T11:54:30Z',
    outcome: { funded: false, decided_at: '2026-12-08T11:54:30Z' },
  }))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('✗ 已截止，未达成出资规则（已缴款项将退回）')
  expect(text(page)).toContain('已截止·未达成，不再接受出资承诺。')
  expect(find(page, '.next')).toBeFalsy()
})

test('a failure to load shows the message and a retry; without a plan the page says where to go', async () => {
  wxFake.route('GET', '/plans/1', refused(404, 'not_found', '您尚未绑定该房屋'))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('⚠ 您尚未绑定该房屋')
  serve(fx.forFlat('owner'))
  await tap(page, '.retry')
  expect(text(page)).toContain('3栋加装电梯出资方案')
  wxFake.calls = []
  const nowhere = await open('pages/plan/index', {})
  expect(wxFake.calls).toEqual([])
  expect(text(nowhere)).toContain('没有找到要查看的出资方案，请从首页进入')
})

test('in large type every step reads large', async () => {
  serve(fx.forFlat('owner', fx.pledge({ payments: [fx.PAYMENT] })))
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(await expectLargeType(page)).toBeGreaterThan(20)
  await tap(page, '.next')
  await sign(page)
  expect(await expectLargeType(page)).toBeGreaterThan(3)
  await tap(page, '.submit')
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})

const QUOTAS = {
  quotas: [
    { template: 'ballot_reminder', title: '表决提醒', template_id: 'TPL-reminder', remaining: 0 },
    { template: 'notice', title: '通知公告', template_id: 'TPL-notice', remaining: 0 },
    { template: 'plan_deadline', title: '方案截止提醒', template_id: 'TPL-plan', remaining: 0 },
  ],
}

test('the tap that pledges asks consent for the plan-deadline reminder and notices, and reports what was accepted', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('GET', '/subscriptions', answer(QUOTAS))
  wxFake.route('POST', '/subscriptions', answer(QUOTAS))
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  const asked = []
  wx.requestSubscribeMessage = (o) => {
    asked.push(o.tmplIds)
    o.success({ 'TPL-plan': 'accept', 'TPL-notice': 'reject', errMsg: 'requestSubscribeMessage:ok' })
  }
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await signAndSubmit(page)
  expect(asked).toEqual([['TPL-plan', 'TPL-notice']])
  const reported = wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/subscriptions')
  expect(reported.map((c) => c.data)).toEqual([{ accepted: ['plan_deadline'] }])
  expect(pledges()).toHaveLength(1)
})

test('an owner who decides later asks for a reminder before the deadline; a refusal says so; no templates, no button', async () => {
  serve(fx.forFlat('owner'))
  wxFake.route('GET', '/subscriptions', answer(QUOTAS))
  wxFake.route('POST', '/subscriptions', answer(QUOTAS))
  let reply = 'accept'
  const asked = []
  wx.requestSubscribeMessage = (o) => { asked.push(o.tmplIds); o.success({ 'TPL-plan': reply, errMsg: 'requestSubscribeMessage:ok' }) }
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  await tap(page, '.remind-me')
  expect(asked).toEqual([['TPL-plan']])
  expect(text(page)).toContain('已订阅：截止前如本户仍未承诺，会发一次微信提醒')
  reply = 'reject'
  await tap(page, '.remind-me')
  expect(text(page)).toContain('未订阅提醒')
  expect(pledges()).toHaveLength(0)

  wxFake.route('GET', '/subscriptions', () => 'fail')
  const other = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(other.querySelectorAll('.remind-me').length).toBe(0)
})

test('the holder of the owner\'s written proxy pledges for the owner, told so before signing and on the receipt', async () => {
  serve(fx.forFlat('proxy'))
  wxFake.route('POST', '/plans/1/pledges', answer(fx.RECEIPT, 201))
  const page = await open('pages/plan/index', { id: '1', flat_id: '5' })
  expect(text(page)).toContain('您正代 王* 承诺出资（委托编号 WTK7M2Q9XPLA）')
  expect(text(page)).toContain('填写出资承诺')
  expect(find(page, '.not-owner')).toBeFalsy()
  await tap(page, '.next')
  expect(text(page)).toContain('您正代 王* 承诺出资（委托编号 WTK7M2Q9XPLA）')
  await sign(page)
  await tap(page, '.submit')
  expect(pledges()).toHaveLength(1)
  expect(text(page)).toContain('✓ 出资承诺已提交')
  expect(text(page)).toContain('您代 王* 承诺出资（委托编号 WTK7M2Q9XPLA）')
})
