// One consultation for one flat: read, choose, sign by hand, confirm, receipt; family members only see.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

const RULE = {
  preset: 'major', objection_veto: false, required_consent_flat_ids: [],
  thresholds: [
    { what: 'participate', measure: 'persons', base: 'all', share: '2/3', strict: false },
    { what: 'participate', measure: 'area', base: 'all', share: '2/3', strict: false },
    { what: 'agree', measure: 'persons', base: 'participants', share: '3/4', strict: false },
    { what: 'agree', measure: 'area', base: 'participants', share: '3/4', strict: false },
  ],
}
// GET /consultations/7?flat_id=312 as the backend answers an owner who has not answered yet.
const OPEN = {
  id: 7, title: '3号楼2单元加装电梯', body: '拟在3号楼2单元北侧加装电梯一部，费用按楼层分摊。\n是否同意？',
  kind: 'elevator', kind_name: '加装电梯', scope: { type: 'building', id: 3 }, compound: { id: 1, name: '阳光里小区' },
  rule: RULE, options: [{ key: 'agree', label: '同意' }, { key: 'disagree', label: '不同意' }, { key: 'abstain', label: '弃权' }],
  status: 'open', status_name: '征询中', opens_at: null, closes_at: '2026-12-05T09:51:29.379389Z',
  opened_at: '2026-11-28T09:51:29.399455Z', closed_at: null, published_at: null,
  roll_digest: '8691f885277ec7074da571dd31e0dcb12fce5500faf9e22c2ec46e7a59b47e05', accepting: true,
  flat_id: 312, answered: false, ballot: null, cannot_sign: null,
}
const BALLOT = { id: 90, choice: 'agree', choice_label: '同意', channel: 'online', status: 'current', recorded_at: '2026-11-29T02:05:00Z' }

function me(relation) {
  return {
    user: { id: 8, name: null, phone: null, roles: [] },
    bindings: [{ id: 41, relation, relation_name: { owner: '业主', family: '家庭成员', tenant: '租户' }[relation],
      status: 'approved', status_name: '已绑定', reason: null, created_at: '2026-11-28T09:51:29.348661Z',
      flat: { id: 312, room: '102', floor: 1, unit: { id: 6, name: '2单元' }, building: { id: 3, name: '3号楼' },
        compound: { id: 1, name: '阳光里小区' }, label: '阳光里小区 3号楼2单元102' } }],
    roles: [],
  }
}

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

function refused(status, code, message, details = {}) {
  return () => ({ status, body: { error: { code, message, details } } })
}

const NOT_OWNER = '只有业主本人（或其书面委托人）可以签署表决票；家庭成员和租户可以查看该户是否已表决'

function serve(consultation, relation = 'owner') {
  // The backend's reason for a family member or tenant, as GET /consultations/7?flat_id= gives it.
  if (relation !== 'owner' && consultation.cannot_sign === null) consultation = { ...consultation, cannot_sign: NOT_OWNER }
  wxFake.route('GET', '/consultations/7', answer(consultation))
  wxFake.route('GET', '/me', answer(me(relation)))
}

const SIGNED = { ballot_id: 90, receipt: 'Z24QW44JWJH8', status: 'current', status_name: '有效（计入统计）' }

function ballots() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/consultations/7/ballots')
}

// Choose the first option, sign on the pad, go on to the confirm step.
async function chooseAndSign(page, index = 0) {
  page.querySelectorAll('.option')[index].dispatchEvent('tap')
  await settle()
  const pad = find(page, '.signature').querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [{ x: 20, y: 80 }] })
  pad.dispatchEvent('touchmove', { touches: [{ x: 90, y: 30 }] })
  pad.dispatchEvent('touchend', {})
  await settle()
  await tap(page, '.next')
}

test('shows what is asked, until when, and that the flat has not answered', async () => {
  serve(OPEN)
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  const shown = text(page)
  expect(wxFake.calls.map((c) => c.path).sort()).toEqual(['/consultations/7?flat_id=312', '/me', '/subscriptions'])
  expect(shown).toContain('3号楼2单元加装电梯')
  expect(shown).toContain('加装电梯 · 征询中')
  expect(shown).toContain('截止时间：2026年12月5日 17:51') // Beijing time
  expect(shown).toContain('拟在3号楼2单元北侧加装电梯一部')
  expect(shown).toContain('⋯ 该户尚未表决')
  expect(page.querySelectorAll('.option').map((o) => o.dom.textContent.trim())).toEqual(['同意', '不同意', '弃权'])
})

test('an owner chooses, signs, confirms and is taken to the receipt', async () => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  page.querySelectorAll('.option')[0].dispatchEvent('tap')
  await settle()
  expect(text(page)).toContain('您选择了：同意')
  expect(find(page, '.next').dom.textContent).toContain('签名后才能下一步')
  await chooseAndSignFromPad(page)
  expect(text(page)).toContain('确认提交：同意？')
  expect(ballots()).toHaveLength(0) // nothing is sent before the confirmation
  await tap(page, '.confirm')
  expect(ballots()).toHaveLength(1)
  expect(ballots()[0].data).toEqual({ flat_id: 312, choice: 'agree', signature: 'aGVsbG8=' })
  expect(ballots()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(wxFake.navigations).toEqual(['/pages/receipt/index?code=Z24QW44JWJH8'])
})

async function chooseAndSignFromPad(page) {
  const pad = find(page, '.signature').querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [{ x: 20, y: 80 }] })
  pad.dispatchEvent('touchmove', { touches: [{ x: 90, y: 30 }] })
  pad.dispatchEvent('touchend', {})
  await settle()
  expect(find(page, '.next').dom.textContent).toContain('下一步')
  await tap(page, '.next')
}

test('going back from the confirmation lets the owner sign again, and another choice is possible', async () => {
  serve(OPEN)
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page, 1)
  expect(text(page)).toContain('确认提交：不同意？')
  await tap(page, '.back')
  expect(text(page)).toContain('您选择了：不同意')
  await tap(page, '.back')
  expect(text(page)).toContain('请选择您的意见')
})

test('a network failure keeps choice and signature and sends them again with the same key', async () => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', () => 'fail')
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(text(page)).toContain('您的选择和签名都还在')
  expect(wxFake.navigations).toEqual([])
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  await tap(page, '.confirm')
  expect(wxFake.navigations).toEqual(['/pages/receipt/index?code=Z24QW44JWJH8'])
  const keys = ballots().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(new Set(ballots().map((c) => JSON.stringify(c.data))).size).toBe(1)
})

test('a new answer after going back is a new request with a new key', async () => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', () => 'fail')
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page, 0)
  await tap(page, '.confirm')
  const first = ballots()[0].header['Idempotency-Key']
  await tap(page, '.back')
  await tap(page, '.back')
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  await chooseAndSign(page, 1)
  await tap(page, '.confirm')
  const last = ballots()[ballots().length - 1]
  expect(last.data.choice).toBe('disagree')
  expect(last.header['Idempotency-Key']).not.toBe(first)
})

test.each([
  [403, 'not_owner', '只有业主本人可以签署表决票；家庭成员和租户可以查看该户是否已表决'],
  [403, 'not_roll_owner', '您绑定时核对的业主与本次征询名册登记的业主不一致，不能签署；如房屋已过户，请新业主重新绑定，或联系网格员核实'],
  [409, 'closed', '征询已截止，不能再表决'],
  [404, 'not_found', '没有找到该征询，或您尚未绑定该房屋'],
])('%i %s: the backend\'s message as is, and no sign button', async (status, code, message) => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', refused(status, code, message))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ ' + message)
  expect(find(page, '.option')).toBeFalsy()
  expect(wxFake.navigations).toEqual([])
})

test('a ballot conflicting with a confirmed paper ballot: the message and the way to its receipt', async () => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', refused(409, 'ballot_conflict',
    '该户已有经确认的纸质表决票，本次线上表决未计入；如需更改请联系网格员',
    { ballot_id: 91, receipt: 'K7M3QX9PRT2A', status: 'conflict', status_name: '与该户另一渠道的有效票冲突，未计入' }))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('该户已有经确认的纸质表决票，本次线上表决未计入')
  await tap(page, '.conflict-receipt')
  expect(wxFake.navigations).toEqual(['/pages/receipt/index?code=K7M3QX9PRT2A'])
})

test('a signature the backend refuses: its message, and the owner signs again', async () => {
  serve(OPEN)
  wxFake.route('POST', '/consultations/7/ballots', refused(422, 'validation_error', '签名不是有效的图片', { 签名: ['格式无效'] }))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ 签名不是有效的图片')
  expect(text(page)).toContain('请在下面的框内用手指签上您的名字')
})

test('an owner who answered sees the answer and may change it until the deadline', async () => {
  serve({ ...OPEN, answered: true, ballot: BALLOT })
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('✓ 本户已表决：同意')
  expect(text(page)).toContain('记录时间 2026年11月29日 10:05，有效（计入统计）')
  expect(text(page)).toContain('截止前可以更改表决，以最后一次为准')
})

test('a family member sees whether the flat answered, and no sign button', async () => {
  serve({ ...OPEN, answered: true, ballot: null }, 'family')
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(find(page, '.answered').dom.textContent.trim()).toBe('✓ 该户已表决') // not the owner's choice
  expect(find(page, '.option')).toBeFalsy()
  expect(text(page)).toContain('⚠ ' + NOT_OWNER)
  expect(find(page, '.grant-proxy')).toBeFalsy()
})

test('a tenant of a flat that has not answered sees so', async () => {
  serve(OPEN, 'tenant')
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('⋯ 该户尚未表决')
  expect(find(page, '.option')).toBeFalsy()
})

test('a published consultation shows the outcome and leads to the results', async () => {
  serve({
    ...OPEN, status: 'published', status_name: '已公布', accepting: false, answered: true, ballot: BALLOT,
    closed_at: '2026-12-05T09:51:30Z', published_at: '2026-12-06T01:00:00Z',
    result: { passed: true, still_needed: '已达到表决规则的要求' },
  }, 'family')
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('结果：✓ 通过')
  expect(text(page)).toContain('已公布，不再接受表决')
  expect(find(page, '.option')).toBeFalsy()
  await tap(page, '.results')
  expect(wxFake.navigations).toEqual(['/pages/results/index?id=7&flat_id=312'])
})

test('a failure to load shows the message and a retry', async () => {
  wxFake.route('GET', '/consultations/7', refused(404, 'not_found', '没有找到该征询'))
  wxFake.route('GET', '/me', answer(me('owner')))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('⚠ 没有找到该征询')
  serve(OPEN)
  await tap(page, '.retry')
  expect(text(page)).toContain('3号楼2单元加装电梯')
})

test('without a consultation to show the page says where to go', async () => {
  const page = await open('pages/consultation/index', {})
  expect(wxFake.calls).toEqual([])
  expect(text(page)).toContain('没有找到要查看的征询，请从首页进入')
})

test('in large type every step reads large', async () => {
  serve(OPEN)
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(await expectLargeType(page)).toBeGreaterThan(5)
  await chooseAndSign(page)
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})

const QUOTAS = {
  quotas: [
    { template: 'ballot_reminder', title: '表决提醒', template_id: 'TPL-reminder', remaining: 0 },
    { template: 'result_published', title: '结果公布', template_id: 'TPL-result', remaining: 0 },
    { template: 'notice', title: '通知公告', template_id: 'TPL-notice', remaining: 1 },
    { template: 'plan_deadline', title: '方案截止提醒', template_id: 'TPL-plan', remaining: 0 },
  ],
}

test('the tap that signs asks consent for three messages and reports what was accepted', async () => {
  serve(OPEN)
  wxFake.route('GET', '/subscriptions', answer(QUOTAS))
  wxFake.route('POST', '/subscriptions', answer(QUOTAS))
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  const asked = []
  wx.requestSubscribeMessage = (o) => {
    asked.push(o.tmplIds)
    o.success({ 'TPL-result': 'accept', 'TPL-reminder': 'reject', 'TPL-notice': 'accept', errMsg: 'requestSubscribeMessage:ok' })
  }
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(asked).toEqual([['TPL-result', 'TPL-reminder', 'TPL-notice']])
  const reported = wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/subscriptions')
  expect(reported.map((c) => c.data)).toEqual([{ accepted: ['result_published', 'notice'] }])
  expect(ballots()).toHaveLength(1)
})

test('a refused consent, or none to ask for, never holds up the ballot', async () => {
  serve(OPEN)
  wxFake.route('GET', '/subscriptions', () => 'fail')
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  const asked = []
  wx.requestSubscribeMessage = (o) => { asked.push(o.tmplIds); o.fail({ errMsg: 'requestSubscribeMessage:fail' }) }
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await chooseAndSign(page)
  await tap(page, '.confirm')
  expect(asked).toEqual([]) // the templates could not be loaded: nothing to ask
  expect(ballots()).toHaveLength(1)
  expect(wxFake.navigations).toEqual(['/pages/receipt/index?code=Z24QW44JWJH8'])
})

// issue 15: written proxies and verification levels
const SIGNING_FOR = { proxy_id: 5, number: 'WT7K3M9Q', owner: '王*' }

test('a written proxy is told whom they sign for before signing, at each step and on the receipt', async () => {
  serve({ ...OPEN, signing_for: SIGNING_FOR })
  wxFake.route('GET', '/me', answer({ ...me('owner'), bindings: [] })) // the holder has no binding to this flat
  wxFake.route('POST', '/consultations/7/ballots', answer(SIGNED, 201))
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('您正代 王* 签署（委托编号 WT7K3M9Q）')
  expect(find(page, '.grant-proxy')).toBeFalsy() // a proxy does not grant proxies
  page.querySelectorAll('.option')[0].dispatchEvent('tap')
  await settle()
  expect(text(page)).toContain('您正代 王* 签署（委托编号 WT7K3M9Q）')
  await chooseAndSignFromPad(page)
  expect(text(page)).toContain('确认提交：同意？')
  expect(text(page)).toContain('您正代 王* 签署（委托编号 WT7K3M9Q）')
  await tap(page, '.confirm')
  expect(ballots()[0].data).toEqual({ flat_id: 312, choice: 'agree', signature: 'aGVsbG8=' })
  expect(wxFake.navigations).toEqual(['/pages/receipt/index?code=Z24QW44JWJH8&for=%E7%8E%8B*&proxy=WT7K3M9Q'])
})

test('where level 2 is required, a level-1 owner reads the backend\'s reason and gets no signing form', async () => {
  const reason = '本次表决要求业主经网格员当面核验（核验等级 2）后才能线上签署；您的绑定目前是名册核验（等级 1）。请联系第一网格上门或到社区当面核验身份，核验后即可签署；也可以填写纸质表决票'
  serve({ ...OPEN, rule: { ...RULE, required_level: 2 }, cannot_sign: reason })
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('本次线上签署要求网格员当面核验身份（核验等级 2）')
  expect(text(page)).toContain('⚠ ' + reason)
  expect(find(page, '.option')).toBeFalsy()
  expect(find(page, '.grant-proxy')).toBeTruthy() // the owner may still ask someone verified to sign
})

test('an owner who can sign may instead grant a proxy for this consultation', async () => {
  serve(OPEN)
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  await tap(page, '.grant-proxy')
  expect(wxFake.navigations).toEqual(['/pages/proxies/index?flat_id=312&consultation_id=7'])
})

test('a closed consultation offers no proxy and no signing', async () => {
  serve({ ...OPEN, status: 'closed', status_name: '已截止', accepting: false, cannot_sign: '征询已截止，不能再表决' })
  const page = await open('pages/consultation/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('已截止，不再接受表决')
  expect(find(page, '.grant-proxy')).toBeFalsy()
  expect(find(page, '.option')).toBeFalsy()
})
