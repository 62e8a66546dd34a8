// 委托: an owner grants a proxy (whom, for what, signed by hand, confirmed), sees the proxies granted
// and held, and revokes one after a confirmation; a holder goes to sign where the proxy reaches.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const { proxy, me, binding, answer, refused } = require('../proxy-fixtures')

const OPEN_CONSULTATION = {
  id: 7, title: '3号楼2单元加装电梯', body: '', kind: 'elevator', kind_name: '加装电梯',
  scope: { type: 'building', id: 3 }, compound: { id: 1, name: '阳光里小区' },
  options: [{ key: 'agree', label: '同意' }], status: 'open', status_name: '征询中', opens_at: null,
  closes_at: '2026-12-05T09:51:29Z', opened_at: '2026-11-28T09:51:29Z', closed_at: null, published_at: null,
  roll_digest: 'ab', accepting: true, flat_id: 312, answered: false, ballot: null,
}
const CLOSED_CONSULTATION = { ...OPEN_CONSULTATION, id: 6, title: '外墙保温改造', status: 'closed', status_name: '已截止', accepting: false }

function serve({ mine = me(), list = [], consultations = [OPEN_CONSULTATION, CLOSED_CONSULTATION] } = {}) {
  wxFake.route('GET', '/me', answer(mine))
  wxFake.route('GET', '/proxies', answer(list))
  wxFake.route('GET', '/consultations', answer(consultations))
  wxFake.route('GET', '/plans', answer([]))
}

const grants = () => wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/proxies')

async function fillAndSign(page, { id = '9', name = '李四', target = 0, start = true } = {}) {
  if (start) await tap(page, '.grant')
  find(page, '.user-id').dispatchEvent('input', { detail: { value: id } })
  find(page, '.name').dispatchEvent('input', { detail: { value: name } })
  await settle()
  const targets = page.querySelectorAll('.target')
  if (target !== null) targets[target].dispatchEvent('tap')
  await settle()
  await tap(page, '.next')
}

async function sign(page) {
  const pad = find(page, '.signature').querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [{ x: 20, y: 80 }] })
  pad.dispatchEvent('touchmove', { touches: [{ x: 90, y: 30 }] })
  pad.dispatchEvent('touchend', {})
  await settle()
  await tap(page, '.next')
}

test('shows my 编号, the proxies granted and held, with number, scope and status in Chinese', async () => {
  serve({ list: [
    proxy(),
    proxy({ id: 6, number: 'WT2B8C4D', role: 'holder', owner: '赵*', proxy: { user_id: 8, name: '王*' },
      scope: { type: 'standing', type_name: '长期有效（直至撤销）', id: null, title: null }, can_revoke: false }),
  ] })
  const page = await open('pages/proxies/index', { flat_id: '312' })
  const shown = text(page)
  expect(shown).toContain('我的编号：8')
  expect(shown).toContain('我委托的（1）')
  expect(shown).toContain('委托编号 WT7K3M9Q · ✓ 有效')
  expect(shown).toContain('受托人：李*')
  expect(shown).toContain('事项：仅限一次征询：3号楼2单元加装电梯')
  expect(shown).toContain('委托我的（1）')
  expect(shown).toContain('委托人：赵*（阳光里小区 3号楼2单元102）')
  expect(shown).toContain('事项：长期有效（直至撤销）')
  expect(find(page, '.grant')).toBeTruthy()
  expect(page.querySelectorAll('.revoke')).toHaveLength(1) // granted by me: revocable; held: not
  expect(page.querySelectorAll('.open-target')).toHaveLength(0) // a standing proxy: signed from the consultation
})

test('an owner grants: whom, for which consultation (only open ones), signs, confirms; one request', async () => {
  serve()
  wxFake.route('POST', '/proxies', answer(proxy({ id: 11, number: 'WT9X2Y7Z' }), 201))
  const page = await open('pages/proxies/index', { flat_id: '312' })
  await tap(page, '.grant')
  const labels = page.querySelectorAll('.target').map((t) => t.dom.textContent.trim())
  expect(labels).toEqual(['仅限征询：3号楼2单元加装电梯', '长期有效，直至我撤销']) // the closed one is not offered
  await tap(page, '.back')
  await fillAndSign(page)
  expect(text(page)).toContain('请在下面的框内用手指签上您的名字')
  await sign(page)
  expect(text(page)).toContain('委托 李四（编号 9）为 阳光里小区 3号楼2单元102 代签')
  expect(text(page)).toContain('事项：仅限征询：3号楼2单元加装电梯')
  expect(grants()).toHaveLength(0) // nothing is sent before the confirmation
  await tap(page, '.confirm')
  expect(grants()).toHaveLength(1)
  expect(grants()[0].data).toEqual({
    flat_id: 312, proxy_user_id: 9, proxy_name: '李四', scope: { type: 'consultation', id: 7 }, signature: 'aGVsbG8=',
  })
  expect(grants()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(text(page)).toContain('✓ 已委托 李* 为本户代签，委托编号 WT9X2Y7Z')
  expect(text(page)).toContain('我委托的（1）')
})

test('from the consultation page the consultation is chosen already; a standing proxy sends no id', async () => {
  serve()
  wxFake.route('POST', '/proxies', answer(proxy({ scope: { type: 'standing', type_name: '长期有效（直至撤销）', id: null, title: null } }), 201))
  const page = await open('pages/proxies/index', { flat_id: '312', consultation_id: '7' })
  await tap(page, '.grant')
  expect(find(page, '.target.primary').dom.textContent).toContain('✓ 仅限征询：3号楼2单元加装电梯')
  await fillAndSign(page, { target: 1, start: false })
  await sign(page)
  await tap(page, '.confirm')
  expect(grants()[0].data.scope).toEqual({ type: 'standing', id: null })
})

test.each([
  ['', '李四', '请填写受托人的编号'],
  ['8', '李四', '不能委托给自己'],
  ['9', ' ', '请填写受托人的姓名'],
])('the form says what is missing (%s, %s) and sends nothing', async (id, name, message) => {
  serve()
  const page = await open('pages/proxies/index', { flat_id: '312', consultation_id: '7' })
  await fillAndSign(page, { id, name, target: null })
  expect(text(page)).toContain('⚠ ' + message)
  expect(find(page, '.signature')).toBeFalsy()
  expect(grants()).toHaveLength(0)
})

test('a network failure keeps everything and sends again with the same key', async () => {
  serve()
  wxFake.route('POST', '/proxies', () => 'fail')
  const page = await open('pages/proxies/index', { flat_id: '312' })
  await fillAndSign(page)
  await sign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(text(page)).toContain('填写的内容和签名都还在')
  wxFake.route('POST', '/proxies', answer(proxy(), 201))
  await tap(page, '.confirm')
  const keys = grants().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(text(page)).toContain('✓ 已委托')
})

test.each([
  [422, 'not_a_resident', '受托人须是已绑定房屋的居民，且姓名与其绑定时填写的一致；请核对编号和姓名'],
  [409, 'too_many_proxies', '该受托人在本次征询已受托 3 户，不能再受托'],
])('%i %s: the backend\'s words on the form, and a new key for the corrected proxy', async (status, code, message) => {
  serve()
  wxFake.route('POST', '/proxies', refused(status, code, message))
  const page = await open('pages/proxies/index', { flat_id: '312' })
  await fillAndSign(page)
  await sign(page)
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ ' + message)
  expect(find(page, '.user-id')).toBeTruthy()
  await tap(page, '.next')
  await sign(page)
  await tap(page, '.confirm')
  const keys = grants().map((c) => c.header['Idempotency-Key'])
  expect(keys).toHaveLength(2)
  expect(keys[0]).not.toBe(keys[1])
})

test('revoking asks first, then shows the proxy revoked', async () => {
  serve({ list: [proxy()] })
  wxFake.route('POST', '/proxies/5/revoke', answer(proxy({ status: 'revoked', status_name: '已撤销', revoked_at: '2026-11-30T01:00:00Z', can_revoke: false })))
  const asked = []
  wx.showModal = (o) => { asked.push(o.content); o.success({ confirm: false, cancel: true }) }
  const page = await open('pages/proxies/index', { flat_id: '312' })
  await tap(page, '.revoke')
  expect(asked[0]).toContain('撤销后，李* 不能再为 阳光里小区 3号楼2单元102 代签（委托编号 WT7K3M9Q）')
  expect(wxFake.calls.filter((c) => c.method === 'POST')).toHaveLength(0) // cancelled: nothing sent
  wx.showModal = (o) => o.success({ confirm: true, cancel: false })
  await tap(page, '.revoke')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/proxies/5/revoke'])
  expect(text(page)).toContain('委托编号 WT7K3M9Q · ✗ 已撤销')
  expect(find(page, '.revoke')).toBeFalsy()
})

test('a refused revocation shows why on the proxy', async () => {
  serve({ list: [proxy()] })
  wxFake.route('POST', '/proxies/5/revoke', refused(409, 'closed', '委托的征询或出资方案已截止，委托书不能再撤销；已代签的表决仍然有效'))
  const page = await open('pages/proxies/index', { flat_id: '312' })
  await tap(page, '.revoke')
  expect(text(page)).toContain('⚠ 委托的征询或出资方案已截止，委托书不能再撤销')
})

test('a holder goes to sign the consultation the proxy is for', async () => {
  serve({ mine: me([], 9), list: [proxy({ role: 'holder', can_revoke: false })] })
  const page = await open('pages/proxies/index', {})
  expect(find(page, '.grant')).toBeFalsy() // no flat of mine to grant for
  expect(wxFake.calls.map((c) => c.path).sort()).toEqual(['/me', '/proxies'])
  await tap(page, '.open-target')
  expect(wxFake.navigations).toEqual(['/pages/consultation/index?id=7&flat_id=312'])
})

test('a family member of the flat cannot grant', async () => {
  serve({ mine: me([binding('family')]) })
  const page = await open('pages/proxies/index', { flat_id: '312' })
  expect(find(page, '.grant')).toBeFalsy()
  expect(text(page)).toContain('还没有委托他人')
})

test('a failure to load shows the message and a retry', async () => {
  serve()
  wxFake.route('GET', '/proxies', refused(500, 'server', '服务器开小差了，请稍后再试'))
  const page = await open('pages/proxies/index', { flat_id: '312' })
  expect(text(page)).toContain('服务器开小差了')
  serve({ list: [proxy()] })
  await tap(page, '.retry')
  expect(text(page)).toContain('委托编号 WT7K3M9Q')
})

test('in large type the list and the form read large', async () => {
  serve({ list: [proxy()] })
  const page = await open('pages/proxies/index', { flat_id: '312' })
  expect(await expectLargeType(page)).toBeGreaterThan(5)
  const form = await open('pages/proxies/index', { flat_id: '312' })
  await tap(form, '.grant')
  expect(await expectLargeType(form)).toBeGreaterThan(4)
})

test('a standing proxy\'s holder sees the owner\'s open consultations and plans, and goes to sign one', async () => {
  const fx = require('../plan-fixtures')
  const standing = proxy({ role: 'holder', can_revoke: false, scope: { type: 'standing', type_name: '长期有效（直至撤销）', id: null, title: null } })
  serve({ mine: me([], 9), list: [standing] })
  wxFake.route('GET', '/plans', answer([fx.forFlat('proxy')]))
  const page = await open('pages/proxies/index', {})
  expect(find(page, '.open-target')).toBeFalsy() // no one consultation to go to
  await tap(page, '.show-reach')
  const paths = wxFake.calls.map((c) => c.path)
  expect(paths).toContain('/consultations?flat_id=312')
  expect(paths).toContain('/plans?flat_id=312')
  const reach = page.querySelectorAll('.reach').map((n) => n.dom.textContent.trim())
  expect(reach).toEqual(['征询：3号楼2单元加装电梯', '出资方案：3栋加装电梯出资方案']) // the closed one is not offered
  await tap(page, '.reach')
  expect(wxFake.navigations).toEqual(['/pages/consultation/index?id=7&flat_id=312'])
})

test('a standing proxy with nothing open says so', async () => {
  const standing = proxy({ role: 'holder', can_revoke: false, scope: { type: 'standing', type_name: '长期有效（直至撤销）', id: null, title: null } })
  serve({ mine: me([], 9), list: [standing], consultations: [CLOSED_CONSULTATION] })
  const page = await open('pages/proxies/index', {})
  await tap(page, '.show-reach')
  expect(text(page)).toContain('该户目前没有正在进行的征询或出资方案')
})
