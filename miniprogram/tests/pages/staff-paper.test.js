// Paper ballots: the list with confirmation by a second person, and entering one with its photo
// under a kept Idempotency-Key.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

const CONSULTATION = {
  id: 5, title: '1栋1单元加装电梯', body: '拟在1栋1单元加装电梯一部。', kind: 'elevator', kind_name: '加装电梯',
  scope: { type: 'unit', id: 3 }, compound: { id: 1, name: '阳光里小区' },
  rule: { preset: 'major', thresholds: [], required_consent_flat_ids: [], objection_veto: false },
  options: [{ key: 'agree', label: '同意' }, { key: 'disagree', label: '不同意' }, { key: 'abstain', label: '弃权' }],
  status: 'open', status_name: '征询中', opens_at: '2026-11-20T00:00:00Z', closes_at: '2026-12-05T16:00:00Z',
  opened_at: '2026-11-20T00:00:05Z', closed_at: null, published_at: null,
  roll_digest: '9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012345', accepting: true,
}
// GET /consultations/5/paper-ballots as app/api/consultations.py paper_index() answers it.
const BALLOTS = [
  { id: 41, choice: 'agree', choice_label: '同意', channel: 'paper', status: 'unconfirmed', recorded_at: '2026-11-26T03:20:00Z',
    room: '1栋1单元301', receipt: 'K7M2QX9PRT4W', entered_by: 7, confirmed_by: null },
  { id: 40, choice: 'disagree', choice_label: '不同意', channel: 'paper', status: 'current', recorded_at: '2026-11-25T08:00:00Z',
    room: '1栋1单元102', receipt: '3HNV8CZ5YB2D', entered_by: 7, confirmed_by: 9 },
]
const PENDING = [
  { flat_id: 103, room: '1栋1单元201', floor: 2, area: '85.20', developer_held: false, owner: { name: '张**', phone: '138****1234' } },
  { flat_id: 105, room: '1栋1单元301', floor: 3, area: '85.20', developer_held: false, owner: { name: '刘*', phone: '136****4321' } },
]

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

function refuse(status, code, message, details = {}) {
  return () => ({ status, body: { error: { code, message, details } } })
}

function routes(consultation = CONSULTATION, ballots = BALLOTS) {
  wxFake.route('GET', '/consultations/5', answer(consultation))
  wxFake.route('GET', '/consultations/5/paper-ballots', answer(ballots))
  wxFake.route('GET', '/consultations/5/pending-flats', answer(PENDING))
}

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST')
}

async function fillForm(page) {
  page.instance.pickFlat({ detail: { value: '0' } })
  await settle()
  await tap(page, '.choice') // the first option: 同意
  await tap(page, '.photo')
}

test('lists the paper ballots with their state, and the form to enter one', async () => {
  routes()
  const page = await open('pages/staff/paper/index', { id: '5', title: encodeURIComponent('1栋1单元加装电梯') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/consultations/5', '/consultations/5/paper-ballots', '/consultations/5/pending-flats'])
  const shown = text(page)
  expect(shown).toContain('已录入的纸质票（2）')
  expect(shown).toContain('1栋1单元301 · 同意')
  expect(shown).toContain('⋯ 待第二名工作人员确认')
  expect(shown).toContain('录入时间：2026-11-26 11:20 · 回执码 K7M2QX9PRT4W')
  expect(shown).toContain('1栋1单元102 · 不同意')
  expect(shown).toContain('✓ 已确认，计入统计')
  expect(shown).toContain('录入纸质票')
  expect(page.instance.data.flatNames).toEqual(['1栋1单元201', '1栋1单元301'])
  expect(page.querySelectorAll('.choice').map((b) => b.dom.textContent.trim())).toEqual(['同意', '不同意', '弃权'])
  expect(page.querySelectorAll('.confirm').length).toBe(1) // only the unconfirmed one
})

test('a second staff member confirms an entered ballot', async () => {
  routes()
  wxFake.route('POST', '/paper-ballots/41/confirm', answer({ id: 41, receipt: 'K7M2QX9PRT4W', status: 'current', status_name: '有效（计入统计）' }))
  const page = await open('pages/staff/paper/index', { id: '5' })
  await tap(page, '.confirm')
  expect(posts().map((c) => c.path)).toEqual(['/paper-ballots/41/confirm'])
  expect(wxFake.toasts).toEqual(['已确认'])
  expect(find(page, '.confirm')).toBeFalsy()
  expect(page.querySelectorAll('.status').map((s) => s.dom.textContent)).toEqual(['✓ 已确认，计入统计', '✓ 已确认，计入统计'])
})

test('the one who entered a ballot cannot confirm it: the backend says so', async () => {
  routes()
  wxFake.route('POST', '/paper-ballots/41/confirm', refuse(403, 'same_person', '录入人不能确认自己录入的纸质票，请由另一名工作人员确认'))
  const page = await open('pages/staff/paper/index', { id: '5' })
  await tap(page, '.confirm')
  expect(text(page)).toContain('⚠ 录入人不能确认自己录入的纸质票，请由另一名工作人员确认')
  expect(text(page)).toContain('⋯ 待第二名工作人员确认')
})

test('entering a ballot sends the flat, the choice and the photo read as base64', async () => {
  routes()
  wxFake.route('POST', '/consultations/5/paper-ballots', answer({ id: 42, receipt: 'Q4TZ8M2KXN6R', status: 'unconfirmed', status_name: '纸质票待第二名工作人员确认' }, 201))
  const page = await open('pages/staff/paper/index', { id: '5' })
  await fillForm(page)
  expect(text(page)).toContain('房屋：1栋1单元201')
  expect(text(page)).toContain('✓ 同意')
  expect(text(page)).toContain('✓ 已拍摄照片')
  await tap(page, '.enter')
  const [post] = posts()
  expect(post.path).toBe('/consultations/5/paper-ballots')
  expect(post.data).toEqual({ flat_id: 103, choice: 'agree', photo: 'aGVsbG8=' })
  expect(post.header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(wxFake.toasts).toEqual(['已录入'])
  expect(text(page)).toContain('✓ 已录入 1栋1单元201，回执码 Q4TZ8M2KXN6R。需另一名工作人员确认后才计入统计。')
  expect(page.instance.data.flatIndex).toBe(-1) // the form is clear for the next sheet
})

test('an entry that failed is sent again with the same Idempotency-Key; the next entry gets a new one', async () => {
  routes()
  wxFake.route('POST', '/consultations/5/paper-ballots', () => 'fail')
  const page = await open('pages/staff/paper/index', { id: '5' })
  await fillForm(page)
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试（可再次提交）')
  wxFake.route('POST', '/consultations/5/paper-ballots', answer({ id: 42, receipt: 'Q4TZ8M2KXN6R', status: 'unconfirmed', status_name: '纸质票待第二名工作人员确认' }, 201))
  await tap(page, '.enter')
  await settle()
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(2)
  expect(new Set(keys).size).toBe(1)
  expect(text(page)).toContain('回执码 Q4TZ8M2KXN6R')

  await fillForm(page)
  await tap(page, '.enter')
  const next = posts()[posts().length - 1].header['Idempotency-Key']
  expect(next).not.toBe(keys[0])
})

test('nothing is sent until flat, choice and photo are given', async () => {
  routes()
  const page = await open('pages/staff/paper/index', { id: '5' })
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请选择房屋')
  page.instance.pickFlat({ detail: { value: '1' } })
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请选择表决意见')
  await tap(page, '.choice')
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 请拍摄纸质票照片')
  expect(posts()).toEqual([])
})

test('the backend\'s refusal of an entry is shown', async () => {
  routes()
  wxFake.route('POST', '/consultations/5/paper-ballots', refuse(422, 'validation_error', '纸质票照片不是有效的图片', { '纸质票照片': ['格式无效'] }))
  const page = await open('pages/staff/paper/index', { id: '5' })
  await fillForm(page)
  await tap(page, '.enter')
  expect(text(page)).toContain('⚠ 纸质票照片不是有效的图片')
})

test('a closed consultation lists its paper ballots without the form and without asking for flats', async () => {
  routes({ ...CONSULTATION, status: 'closed', status_name: '已截止', accepting: false })
  const page = await open('pages/staff/paper/index', { id: '5' })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/consultations/5', '/consultations/5/paper-ballots'])
  expect(find(page, '.enter')).toBeFalsy()
  expect(text(page)).toContain('已录入的纸质票（2）')
})

test('a closed consultation without paper ballots is empty', async () => {
  routes({ ...CONSULTATION, status: 'closed', status_name: '已截止', accepting: false }, [])
  const page = await open('pages/staff/paper/index', { id: '5' })
  expect(text(page)).toContain('本次征询（已截止）没有纸质票，也已不再接受录入。')
})

test('a failure shows the message and a retry that loads again', async () => {
  routes()
  wxFake.route('GET', '/consultations/5/paper-ballots', refuse(404, 'not_found', '没有找到该征询'))
  const page = await open('pages/staff/paper/index', { id: '5' })
  expect(text(page)).toContain('⚠ 没有找到该征询')
  routes()
  await tap(page, '.retry')
  expect(text(page)).toContain('已录入的纸质票（2）')
})

test('in large type every text of the page reads at least 18px', async () => {
  routes()
  const page = await open('pages/staff/paper/index', { id: '5' })
  await fillForm(page)
  expect(await expectLargeType(page)).toBeGreaterThan(10)
})

test('the confirmer opens the photo of the sheet before confirming', async () => {
  routes()
  wxFake.route('GET', '/paper-ballots/41/photo', () => ({ status: 200, file: '/tmp/paper-41.jpg' }))
  const page = await open('pages/staff/paper/index', { id: '5' })
  await tap(page, '.view-photo')
  const fetched = wxFake.calls.filter((c) => c.download)
  expect(fetched.map((c) => [c.path, c.header.Authorization])).toEqual([['/paper-ballots/41/photo', 'Bearer token-0']])
  expect(wxFake.navigations).toEqual(['preview:/tmp/paper-41.jpg'])
})
