// The door-visit list: flats with no counted ballot, by building and unit, masked contacts, and
// no dialling of a masked number.
const { open, text, tap, find, expectLargeType } = require('../helpers')

// GET /consultations/5/pending-flats as app/services/consultations.py pending_flats() answers it.
const PENDING = [
  { flat_id: 103, room: '1栋1单元201', floor: 2, area: '85.20', developer_held: false, owner: { name: '张**', phone: '138****1234' } },
  { flat_id: 105, room: '1栋1单元301', floor: 3, area: '85.20', developer_held: false, owner: { name: '刘*', phone: null } },
  { flat_id: 108, room: '1栋2单元102', floor: 1, area: '92.50', developer_held: false, owner: null },
  { flat_id: 111, room: '1栋2单元301', floor: 3, area: '85.20', developer_held: true, owner: { name: '阳**', phone: '010****8888' } },
  { flat_id: 112, room: '1栋2单元302', floor: 3, area: '92.50', developer_held: true, owner: { name: '阳**', phone: '010****8888' } },
]

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

test('the flats to visit, by building and unit, with masked contacts and how to call', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', answer(PENDING))
  const page = await open('pages/staff/pending/index', { id: '5', title: encodeURIComponent('1栋加装电梯') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/consultations/5/pending-flats'])
  const shown = text(page)
  expect(shown).toContain('1栋加装电梯')
  expect(shown).toContain('⋯ 共 5 户未表决')
  expect(shown).toContain('1栋1单元：未表决 2 户')
  expect(shown).toContain('1栋2单元：未表决 3 户')
  expect(shown).toContain('201 室 · 2 层 · 85.20 m²')
  expect(shown).toContain('业主 张** · 138****1234')
  expect(shown).toContain('请通过网格通讯录拨打')
  expect(shown).toContain('业主 刘* · 名册无电话')
  expect(shown).toContain('名册中没有业主联系方式，请上门核实')
  expect(shown).toContain('开发商持有（未售或未交付）')
  const groups = page.querySelectorAll('.group-name').map((g) => g.dom.textContent)
  expect(groups).toEqual(['1栋1单元：未表决 2 户', '1栋2单元：未表决 3 户'])
})

test('tapping a flat never dials a masked number', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', answer(PENDING))
  const page = await open('pages/staff/pending/index', { id: '5' })
  await tap(page, '.owner')
  await tap(page, '.flat')
  expect(wxFake.phoneCalls).toEqual([])
})

test('labels without building or unit still land in one group', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', answer([
    { flat_id: 1, room: '101', floor: 1, area: '60.00', developer_held: false, owner: null },
  ]))
  const page = await open('pages/staff/pending/index', { id: '5' })
  expect(text(page)).toContain('其他：未表决 1 户')
})

test('everyone answered: nothing to visit', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', answer([]))
  const page = await open('pages/staff/pending/index', { id: '5' })
  expect(text(page)).toContain('✓ 您范围内的住户均已表决，无需上门。')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该征询', details: {} } } }))
  const page = await open('pages/staff/pending/index', { id: '5' })
  expect(text(page)).toContain('⚠ 没有找到该征询')
  wxFake.route('GET', '/consultations/5/pending-flats', answer(PENDING))
  await tap(page, '.retry')
  expect(text(page)).toContain('共 5 户未表决')
  expect(find(page, '.retry')).toBeFalsy()
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', answer(PENDING))
  const page = await open('pages/staff/pending/index', { id: '5' })
  expect(await expectLargeType(page)).toBeGreaterThan(10)
})

test('a flat no reminder could reach is marked for a visit first', async () => {
  wxFake.route('GET', '/consultations/5/pending-flats', () => ({ status: 200, body: { data: [
    { ...PENDING[0], unreachable: true }, { ...PENDING[1], unreachable: false },
  ] } }))
  const page = await open('pages/staff/pending/index', { id: '5' })
  const marks = page.querySelectorAll('.unreachable')
  expect(marks).toHaveLength(1)
  expect(marks[0].dom.textContent).toContain('微信提醒未能送达')
})
