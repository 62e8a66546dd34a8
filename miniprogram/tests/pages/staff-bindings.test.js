// Binding approvals: approve, reject with a reason (the backend's 422 when there is none), and
// unlock a locked flat after a confirm.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

function flat(id, unit, room, floor) {
  return {
    id, room, floor,
    unit: { id: unit, name: unit + '单元' },
    building: { id: 1, name: '1栋' },
    compound: { id: 1, name: '阳光里小区' },
    label: `阳光里小区 1栋${unit}单元${room}`,
  }
}

// GET /bindings?status=pending as app/api/views.py binding_view(for_staff=True) answers it.
const PENDING = [
  { id: 31, flat: flat(101, 1, '101', 1), relation: 'owner', relation_name: '业主', status: 'pending', status_name: '待审核',
    reason: null, created_at: '2026-11-25T02:30:00Z', applicant: { name: '张伟', phone: '139****5678' },
    roster_owner: { name: '张**', phone: '138****1234' }, method: null },
  { id: 32, flat: flat(108, 2, '102', 1), relation: 'tenant', relation_name: '租户', status: 'pending', status_name: '待审核',
    reason: null, created_at: '2026-11-26T09:00:00Z', applicant: { name: '陈静', phone: null },
    roster_owner: null, method: null },
]
// GET /bindings/locked-flats: flat_view plus locked_at.
const LOCKED = [{ ...flat(105, 1, '301', 3), locked_at: '2026-11-27T06:15:00Z' }]

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

function refuse(status, code, message, details = {}) {
  return () => ({ status, body: { error: { code, message, details } } })
}

// GET /bindings?status=approved: bound residents, one still at level 1 (roster check), one confirmed in person.
const APPROVED = [
  { id: 41, flat: flat(102, 1, '102', 1), relation: 'owner', relation_name: '业主', status: 'approved', status_name: '已绑定',
    reason: null, created_at: '2026-11-20T02:30:00Z', level: 1, level_name: '名册核验', level_at: null,
    applicant: { name: '王秀英', phone: '137****4321' }, roster_owner: { name: '王**', phone: '137****4321' }, method: 'roster' },
  { id: 42, flat: flat(103, 1, '201', 2), relation: 'owner', relation_name: '业主', status: 'approved', status_name: '已绑定',
    reason: null, created_at: '2026-11-21T02:30:00Z', level: 2, level_name: '网格员当面核验', level_at: '2026-11-22T02:30:00Z',
    applicant: { name: '刘强', phone: null }, roster_owner: { name: '刘*', phone: null }, method: 'roster' },
]

function byStatus(pending, approved) {
  return (req) => ({ status: 200, body: { data: req.path.endsWith('status=approved') ? approved : pending } })
}

function routes() {
  wxFake.route('GET', '/bindings', byStatus(PENDING, APPROVED))
  wxFake.route('GET', '/bindings/locked-flats', answer(LOCKED))
}

function writes() {
  return wxFake.calls.filter((c) => c.method === 'POST').map((c) => ({ path: c.path, data: c.data }))
}

afterEach(() => jest.restoreAllMocks())

test('shows each application with the roster owner, and the locked flats', async () => {
  routes()
  const page = await open('pages/staff/bindings/index')
  expect(wxFake.calls.map((c) => c.path).sort()).toEqual(['/bindings/locked-flats', '/bindings?status=approved', '/bindings?status=pending'])
  const shown = text(page)
  expect(shown).toContain('待审核的绑定申请（2）')
  expect(shown).toContain('阳光里小区 1栋1单元101')
  expect(shown).toContain('申请人填写：张伟（业主） · 139****5678')
  expect(shown).toContain('名册业主：张** · 138****1234')
  expect(shown).toContain('申请时间：2026-11-25 10:30')
  expect(shown).toContain('申请人填写：陈静（租户）')
  expect(shown).toContain('名册中没有该房屋的业主')
  expect(shown).toContain('被锁定的房屋（1）')
  expect(shown).toContain('⚠ 阳光里小区 1栋1单元301')
  expect(shown).toContain('锁定时间：2026-11-27 14:15')
  expect(shown).toContain('待当面核验的居民（1）') // the level-2 one is not offered again
  expect(shown).toContain('王秀英（业主） · 137****4321')
  expect(shown).toContain('当前：名册核验')
  expect(shown).not.toContain('刘强')
})

test('当面核验 asks first, then confirms the binding and takes it off the list (issue 15)', async () => {
  routes()
  wxFake.route('POST', '/bindings/41/confirm-in-person', answer({ ...APPROVED[0], level: 2, level_name: '网格员当面核验', level_at: '2026-11-30T02:00:00Z' }))
  const asked = []
  wx.showModal = (o) => { asked.push(o.content); o.success({ confirm: false, cancel: true }) }
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.confirm-in-person')
  expect(asked[0]).toContain('请确认您已当面见到 王秀英（业主） · 137****4321')
  expect(writes()).toEqual([]) // cancelled: nothing sent
  wx.showModal = (o) => o.success({ confirm: true, cancel: false })
  await tap(page, '.confirm-in-person')
  expect(writes()).toEqual([{ path: '/bindings/41/confirm-in-person', data: undefined }])
  expect(text(page)).toContain('待当面核验的居民（0）')
  expect(text(page)).toContain('✓ 本范围已绑定的居民都已当面核验')
})

test('a confirmation the backend refuses shows its words on the resident', async () => {
  routes()
  wxFake.route('POST', '/bindings/41/confirm-in-person', refuse(409, 'already_confirmed', '该居民已经当面核验过', { level: 2 }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.confirm-in-person')
  expect(text(page)).toContain('⚠ 该居民已经当面核验过')
})

test('approving posts to the application and takes it off the list', async () => {
  routes()
  wxFake.route('POST', '/bindings/31/approve', answer({ ...PENDING[0], status: 'approved', status_name: '已绑定', method: 'staff' }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.approve')
  expect(writes()).toEqual([{ path: '/bindings/31/approve', data: undefined }])
  expect(wxFake.toasts).toEqual(['已通过'])
  expect(text(page)).toContain('待审核的绑定申请（1）')
  expect(text(page)).not.toContain('张伟')
})

test('rejecting sends the reason written', async () => {
  routes()
  wxFake.route('POST', '/bindings/31/reject', answer({ ...PENDING[0], status: 'rejected', status_name: '已驳回', reason: '经电话核实，非本户业主' }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.start-reject')
  expect(find(page, '.reason-input')).toBeTruthy()
  page.instance.onReason({ detail: { value: ' 经电话核实，非本户业主 ' } })
  await tap(page, '.confirm-reject')
  expect(writes()).toEqual([{ path: '/bindings/31/reject', data: { reason: '经电话核实，非本户业主' } }])
  expect(wxFake.toasts).toEqual(['已驳回'])
  expect(text(page)).toContain('待审核的绑定申请（1）')
})

test('rejecting without a reason shows the backend\'s message and keeps the application', async () => {
  routes()
  wxFake.route('POST', '/bindings/31/reject', refuse(422, 'validation_error', '驳回时请填写原因', { reason: ['必填项'] }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.start-reject')
  await tap(page, '.confirm-reject')
  expect(writes()).toEqual([{ path: '/bindings/31/reject', data: { reason: '' } }])
  expect(text(page)).toContain('⚠ 驳回时请填写原因')
  expect(text(page)).toContain('待审核的绑定申请（2）')
  expect(wxFake.toasts).toEqual([])
})

test('an application another reviewer already handled says so', async () => {
  routes()
  wxFake.route('POST', '/bindings/31/approve', refuse(409, 'not_pending', '该申请已处理，无需重复审核', { status: 'approved' }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.approve')
  expect(text(page)).toContain('⚠ 该申请已处理，无需重复审核')
})

test('unlocking asks first, then posts the reason given', async () => {
  routes()
  wxFake.route('POST', '/flats/105/unlock', answer({ ...flat(105, 1, '301', 3), locked_at: null }))
  const asked = []
  jest.spyOn(wx, 'showModal').mockImplementation((o) => { asked.push(o.content); o.success({ confirm: true, cancel: false, content: '已电话联系业主张先生核实' }) })
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.unlock')
  await settle()
  expect(asked).toEqual(['请先与业主本人核实。确认解锁 阳光里小区 1栋1单元301，允许再次申请绑定？'])
  expect(writes()).toEqual([{ path: '/flats/105/unlock', data: { reason: '已电话联系业主张先生核实' } }])
  expect(wxFake.toasts).toEqual(['已解锁'])
  expect(text(page)).toContain('✓ 没有被锁定的房屋')
})

test('unlocking cancelled sends nothing', async () => {
  routes()
  jest.spyOn(wx, 'showModal').mockImplementation((o) => o.success({ confirm: false, cancel: true }))
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.unlock')
  expect(writes()).toEqual([])
  expect(text(page)).toContain('被锁定的房屋（1）')
})

test('nothing to review and nothing locked', async () => {
  wxFake.route('GET', '/bindings', answer([]))
  wxFake.route('GET', '/bindings/locked-flats', answer([]))
  const page = await open('pages/staff/bindings/index')
  expect(text(page)).toContain('✓ 没有待审核的绑定申请，也没有被锁定的房屋或待当面核验的居民。')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/bindings', refuse(403, 'forbidden', '仅限工作人员操作'))
  wxFake.route('GET', '/bindings/locked-flats', answer(LOCKED))
  const page = await open('pages/staff/bindings/index')
  expect(text(page)).toContain('⚠ 仅限工作人员操作')
  routes()
  await tap(page, '.retry')
  expect(text(page)).toContain('待审核的绑定申请（2）')
})

test('in large type every text of the page reads at least 18px', async () => {
  routes()
  const page = await open('pages/staff/bindings/index')
  await tap(page, '.start-reject')
  expect(await expectLargeType(page)).toBeGreaterThan(10)
})
