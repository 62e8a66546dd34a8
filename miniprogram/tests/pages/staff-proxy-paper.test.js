// Paper proxies (issue 15): a grid worker enters one with a photo (resent with the same key after a
// failure); a second staff member picks the flat, views the photo and confirms; the same person cannot.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const { proxy, answer, refused } = require('../proxy-fixtures')

const CONSULTATION = {
  id: 7, title: '3号楼2单元加装电梯', body: '', kind: 'elevator', kind_name: '加装电梯',
  scope: { type: 'building', id: 3 }, compound: { id: 1, name: '阳光里小区' }, options: [{ key: 'agree', label: '同意' }],
  status: 'open', status_name: '征询中', opens_at: null, closes_at: '2026-12-05T09:51:29Z', opened_at: '2026-11-28T09:51:29Z',
  closed_at: null, published_at: null, roll_digest: 'ab', accepting: true,
}
const PENDING = [{ flat_id: 312, room: '3号楼2单元102', floor: 1, area: '88.50', developer_held: false, unreachable: true, owner: { name: '王*', phone: '138****1234' } }]
const PAPER = proxy({ channel: 'paper', channel_name: '纸质委托书（工作人员录入）', status: 'unconfirmed',
  status_name: '纸质委托书待第二名工作人员确认', confirmed_at: null, role: 'staff' })

function serve(list = []) {
  wxFake.route('GET', '/consultations/7', answer(CONSULTATION))
  wxFake.route('GET', '/consultations/7/pending-flats', answer(PENDING))
  wxFake.route('GET', '/proxies', answer(list))
}

const entries = () => wxFake.calls.filter((c) => c.method === 'POST' && c.path === '/proxies/paper')

async function pickFlat(page) {
  find(page, '.flat-picker').dispatchEvent('change', { detail: { value: 0 } })
  await settle()
}

async function fill(page) {
  await pickFlat(page)
  find(page, '.user-id').dispatchEvent('input', { detail: { value: '9' } })
  find(page, '.name').dispatchEvent('input', { detail: { value: '李四' } })
  await settle()
  await tap(page, '.photo')
}

test('entering a paper proxy: flat, holder, scope and photo in one request; a failure resends the same key', async () => {
  serve()
  wxFake.route('POST', '/proxies/paper', () => 'fail')
  const page = await open('pages/staff/proxy-paper/index', { id: '7' })
  expect(text(page)).toContain('3号楼2单元加装电梯')
  await fill(page)
  expect(wxFake.calls.map((c) => c.path)).toContain('/proxies?flat_id=312')
  await tap(page, '.enter')
  expect(text(page)).toContain('（可再次提交）')
  wxFake.route('POST', '/proxies/paper', answer(PAPER, 201))
  serve([PAPER])
  await tap(page, '.enter')
  expect(entries()[0].data).toEqual({ flat_id: 312, proxy_user_id: 9, proxy_name: '李四', photo: 'aGVsbG8=', scope: { type: 'consultation', id: 7 } })
  const keys = entries().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(text(page)).toContain('✓ 已录入 3号楼2单元102 的委托书，委托编号 WT7K3M9Q')
  expect(text(page)).toContain('委托编号 WT7K3M9Q · ⋯ 纸质委托书待第二名工作人员确认')
})

test('the form says what is missing and sends nothing', async () => {
  serve()
  const page = await open('pages/staff/proxy-paper/index', { id: '7' })
  await pickFlat(page)
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请填写受托人的编号')
  expect(entries()).toHaveLength(0)
})

test('a standing paper proxy sends no consultation id', async () => {
  serve()
  wxFake.route('POST', '/proxies/paper', answer(PAPER, 201))
  const page = await open('pages/staff/proxy-paper/index', { id: '7' })
  await fill(page)
  await tap(page, '.scope-standing')
  await tap(page, '.enter')
  expect(entries()[0].data.scope).toEqual({ type: 'standing', id: null })
})

test('a second staff member views the photo and confirms; the one who entered it is refused', async () => {
  serve([PAPER])
  wxFake.route('GET', '/proxies/5/photo', () => ({ status: 200, file: '/tmp/proxy-5.jpg' }))
  wxFake.route('POST', '/proxies/5/confirm', refused(403, 'same_person', '录入人不能确认自己录入的纸质委托书，请由另一名工作人员确认'))
  const page = await open('pages/staff/proxy-paper/index', { id: '7' })
  await pickFlat(page)
  await tap(page, '.view-photo')
  expect(wxFake.navigations).toEqual(['preview:/tmp/proxy-5.jpg'])
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ 录入人不能确认自己录入的纸质委托书')
  wxFake.route('POST', '/proxies/5/confirm', answer({ ...PAPER, status: 'active', status_name: '有效', confirmed_at: '2026-11-30T01:00:00Z' }))
  await tap(page, '.confirm')
  expect(text(page)).toContain('委托编号 WT7K3M9Q · ✓ 有效')
  expect(find(page, '.confirm')).toBeFalsy()
})

test('reached from the paper ballots page', async () => {
  wxFake.route('GET', '/consultations/7', answer(CONSULTATION))
  wxFake.route('GET', '/consultations/7/paper-ballots', answer([]))
  wxFake.route('GET', '/consultations/7/pending-flats', answer(PENDING))
  const page = await open('pages/staff/paper/index', { id: '7' })
  await tap(page, '.proxy-paper')
  expect(wxFake.navigations).toEqual(['/pages/staff/proxy-paper/index?id=7&title=3%E5%8F%B7%E6%A5%BC2%E5%8D%95%E5%85%83%E5%8A%A0%E8%A3%85%E7%94%B5%E6%A2%AF'])
})

test('in large type every text reads large', async () => {
  serve([PAPER])
  const page = await open('pages/staff/proxy-paper/index', { id: '7' })
  await pickFlat(page)
  expect(await expectLargeType(page)).toBeGreaterThan(8)
})
