// Landing from a building's code: the building, then unit and flat, then the binding form.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

function tapNth(page, selector, n) {
  page.querySelectorAll(selector)[n].dispatchEvent('tap')
  return settle()
}

// GET /scan/<scene> as the backend answers it: rooms and floors only, never names.
const BUILDING = {
  building: { id: 3, name: '3号楼', compound: { id: 1, name: '阳光里小区' } },
  units: [
    { id: 5, name: '1单元', flats: [
      { id: 301, room: '101', floor: 1 }, { id: 302, room: '102', floor: 1 },
      { id: 303, room: '201', floor: 2 }, { id: 304, room: '202', floor: 2 },
    ] },
    { id: 6, name: '2单元', flats: [
      { id: 311, room: '101', floor: 1 }, { id: 312, room: '102', floor: 1 },
    ] },
  ],
}

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

test('a mini-program code: shows the building, then the units, then the flats of the unit chosen', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  const page = await open('pages/scan/index', { scene: encodeURIComponent('b3x1a2b') })
  expect(wxFake.calls.map((c) => [c.method, c.path])).toEqual([['GET', '/scan/b3x1a2b']])
  expect(text(page)).toContain('阳光里小区 3号楼')
  expect(text(page)).toContain('第 1 步：请点选您住的单元')
  expect(text(page)).toContain('2单元（2 户）')
  await tapNth(page, '.unit', 1)
  expect(text(page)).toContain('第 2 步：请点选您的房号（2单元）')
  expect(text(page)).toContain('102 室 · 1 层')
  await tapNth(page, '.flat', 1)
  expect(wxFake.navigations).toEqual([
    '/pages/bind/index?flat_id=312&label=' + encodeURIComponent('阳光里小区 3号楼2单元102'),
  ])
})

test('another unit can be chosen after all', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  const page = await open('pages/scan/index', { scene: 'b3x1a2b' })
  await tapNth(page, '.unit', 0)
  expect(text(page)).toContain('202 室 · 2 层')
  await tap(page, '.other-unit')
  expect(text(page)).toContain('第 1 步：请点选您住的单元')
})

test('a building with one unit goes straight to the flats', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer({ ...BUILDING, units: [BUILDING.units[0]] }))
  const page = await open('pages/scan/index', { scene: 'b3x1a2b' })
  expect(text(page)).toContain('请点选您的房号（1单元）')
  expect(find(page, '.other-unit')).toBeFalsy()
})

test('a plain QR code: the scene is the end of the URL', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  const page = await open('pages/scan/index', { q: encodeURIComponent('https://gongjian.example.cn/s/b3x1a2b') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/scan/b3x1a2b'])
  expect(text(page)).toContain('阳光里小区 3号楼')
})

test('a scene passed on in a query object is read too', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  await open('pages/scan/index', { query: { scene: 'b3x1a2b' } })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/scan/b3x1a2b'])
})

test('an unknown code shows the backend\'s message and the way home', async () => {
  wxFake.route('GET', '/scan/zzz', () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到这栋楼，请确认扫描的是本小区楼栋上的二维码', details: {} } } }))
  const page = await open('pages/scan/index', { scene: 'zzz' })
  expect(text(page)).toContain('⚠ 没有找到这栋楼，请确认扫描的是本小区楼栋上的二维码')
  await tap(page, '.home')
  expect(wxFake.navigations).toEqual(['/pages/index/index'])
})

test('a QR code that is not a building\'s asks nothing of the backend', async () => {
  const page = await open('pages/scan/index', { q: encodeURIComponent('https://example.com/other') })
  expect(wxFake.calls).toEqual([])
  expect(text(page)).toContain('没有读到楼栋二维码，请回到首页重新扫码')
  expect(find(page, '.home')).not.toBeFalsy()
})

test('a network failure offers a retry that loads again', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', () => 'fail')
  const page = await open('pages/scan/index', { scene: 'b3x1a2b' })
  expect(text(page)).toContain('网络不给力，请检查网络后重试')
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  await tap(page, '.retry')
  expect(text(page)).toContain('阳光里小区 3号楼')
})

test('a building without registered flats says whom to ask', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer({ ...BUILDING, units: [] }))
  const page = await open('pages/scan/index', { scene: 'b3x1a2b' })
  expect(text(page)).toContain('这栋楼还没有登记房屋，请联系网格员')
})

test('in large type every text and button of the page is large', async () => {
  wxFake.route('GET', '/scan/b3x1a2b', answer(BUILDING))
  const page = await open('pages/scan/index', { scene: 'b3x1a2b' })
  expect(await expectLargeType(page)).toBeGreaterThan(3)
})
