// A published result: the outcome, participation and approval by persons and by area, rooms' answers.
const { open, text, tap, expectLargeType } = require('../helpers')

const RULE = {
  preset: 'major', objection_veto: false, required_consent_flat_ids: [],
  thresholds: [
    { what: 'participate', measure: 'persons', base: 'all', share: '2/3', strict: false },
    { what: 'participate', measure: 'area', base: 'all', share: '2/3', strict: false },
    { what: 'agree', measure: 'persons', base: 'participants', share: '3/4', strict: false },
    { what: 'agree', measure: 'area', base: 'participants', share: '3/4', strict: false },
  ],
}
const CONSULTATION = {
  id: 7, title: '3号楼2单元加装电梯', body: '拟在3号楼2单元北侧加装电梯一部，费用按楼层分摊。',
  kind: 'elevator', kind_name: '加装电梯', scope: { type: 'building', id: 3 }, compound: { id: 1, name: '阳光里小区' },
  rule: RULE, options: [{ key: 'agree', label: '同意' }, { key: 'disagree', label: '不同意' }, { key: 'abstain', label: '弃权' }],
  status: 'published', status_name: '已公布', opens_at: null, closes_at: '2026-12-05T09:51:29Z',
  opened_at: '2026-11-28T09:51:29Z', closed_at: '2026-12-05T09:51:30Z', published_at: '2026-12-06T01:00:00Z',
  roll_digest: '8691f885277ec7074da571dd31e0dcb12fce5500faf9e22c2ec46e7a59b47e05', accepting: false,
  result: { passed: true, still_needed: '已达到表决规则的要求' },
}
const ROOMS = ['101', '102', '201', '202', '301', '302', '401', '402', '501', '502', '601', '602'].map((room, i) => {
  const choice = i < 9 ? 'agree' : i === 9 ? 'disagree' : null
  return { room: `3号楼2单元${room}`, choice, choice_label: { agree: '同意', disagree: '不同意' }[choice] || '未表决' }
})
// GET /consultations/7/results?flat_id=312 as the backend answers it.
const PASSED = {
  consultation: CONSULTATION,
  result: {
    roll: { flats: 12, persons: 12, area: '1026.40', digest: CONSULTATION.roll_digest },
    participation: { persons: 10, area: '860.20', flats: 10, met: true, thresholds: [
      { what: 'participate', measure: 'persons', base: 'all', share: '2/3', strict: false, value: 10, of: 12, met: true, needed: 0 },
      { what: 'participate', measure: 'area', base: 'all', share: '2/3', strict: false, value: '860.20', of: '1026.40', met: true, needed: '0.00' },
    ] },
    approval: { persons: 9, area: '780.00', flats: 9, met: true, thresholds: [
      { what: 'agree', measure: 'persons', base: 'participants', share: '3/4', strict: false, value: 9, of: 10, met: true, needed: 0 },
      { what: 'agree', measure: 'area', base: 'participants', share: '3/4', strict: false, value: '780.00', of: '860.20', met: true, needed: '0.00' },
    ] },
    choices: {
      agree: { label: '同意', persons: 9, area: '780.00', flats: 9 },
      disagree: { label: '不同意', persons: 1, area: '80.20', flats: 1 },
      abstain: { label: '弃权', persons: 0, area: '0.00', flats: 0 },
    },
    passed: true,
    still_needed: '已达到表决规则的要求',
  },
  rooms: ROOMS,
}
const FAILED = {
  consultation: { ...CONSULTATION, result: { passed: false, still_needed: '参与还差 7 户 / 560.00 m²' } },
  result: {
    roll: { flats: 12, persons: 12, area: '960.00', digest: CONSULTATION.roll_digest },
    participation: { persons: 1, area: '80.00', flats: 1, met: false, thresholds: [
      { what: 'participate', measure: 'persons', base: 'all', share: '2/3', strict: false, value: 1, of: 12, met: false, needed: 7 },
      { what: 'participate', measure: 'area', base: 'all', share: '2/3', strict: false, value: '80.00', of: '960.00', met: false, needed: '560.00' },
    ] },
    approval: { persons: 1, area: '80.00', flats: 1, met: true, thresholds: [
      { what: 'agree', measure: 'persons', base: 'participants', share: '3/4', strict: false, value: 1, of: 1, met: true, needed: 0 },
      { what: 'agree', measure: 'area', base: 'participants', share: '3/4', strict: false, value: '80.00', of: '80.00', met: true, needed: '0.00' },
    ] },
    choices: { agree: { label: '同意', persons: 1, area: '80.00', flats: 1 } },
    passed: false,
    still_needed: '参与还差 7 户 / 560.00 m²',
  },
  rooms: [{ room: '1栋1单元101', choice: null, choice_label: '未表决' }, { room: '1栋1单元102', choice: 'agree', choice_label: '同意' }],
}

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

test('a passed consultation: the outcome, each threshold with its figures, and the rooms', async () => {
  wxFake.route('GET', '/consultations/7/results', answer(PASSED))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  expect(wxFake.calls.map((c) => [c.method, c.path])).toEqual([['GET', '/consultations/7/results?flat_id=312']])
  const shown = text(page)
  expect(shown).toContain('3号楼2单元加装电梯')
  expect(shown).toContain('✓ 通过')
  expect(shown).not.toContain('差距')
  expect(shown).toContain('共 12 位业主、1026.40 m²（12 户）；参与 10 人、860.20 m²')
  expect(shown).toContain('按人数：10 / 12 人，需达到全体的三分之二及以上')
  expect(shown).toContain('按面积：860.20 / 1026.40 m²，需达到全体的三分之二及以上')
  expect(shown).toContain('按人数：9 / 10 人，需达到参与者的四分之三及以上')
  expect(shown).toContain('按面积：780.00 / 860.20 m²，需达到参与者的四分之三及以上')
  expect(page.querySelectorAll('.met').map((n) => n.dom.textContent.trim())).toEqual(['✓ 已达到', '✓ 已达到', '✓ 已达到', '✓ 已达到'])
  expect(shown).toContain('不同意：1 人，80.20 m²')
  const rooms = page.querySelectorAll('.room').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
  expect(rooms).toHaveLength(12)
  expect(rooms[0]).toBe('3号楼2单元101：同意')
  expect(rooms[9]).toBe('3号楼2单元502：不同意')
  expect(rooms[11]).toBe('3号楼2单元602：— 未表决')
})

test('a failed consultation says what was missing, with ✗ as well as words', async () => {
  wxFake.route('GET', '/consultations/7/results', answer(FAILED))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  const shown = text(page)
  expect(shown).toContain('✗ 未通过')
  expect(shown).toContain('差距：参与还差 7 户 / 560.00 m²')
  expect(page.querySelectorAll('.met').map((n) => n.dom.textContent.trim())).toEqual(['✗ 未达到', '✗ 未达到', '✓ 已达到', '✓ 已达到'])
  expect(page.querySelectorAll('.bar-fill')[0].dom.getAttribute('style')).toContain('width: 8%')
})

test('a local rule of more than half of all flats reads as such', async () => {
  const local = JSON.parse(JSON.stringify(PASSED))
  local.result.approval.thresholds.push({ what: 'agree', measure: 'flats', base: 'all', share: '1/2', strict: true, value: 9, of: 12, met: true, needed: 0 })
  wxFake.route('GET', '/consultations/7/results', answer(local))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('按户数：9 / 12 户，需超过全体的二分之一')
})

test('no rooms on the list is said so', async () => {
  wxFake.route('GET', '/consultations/7/results', answer({ ...PASSED, rooms: [] }))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('暂无房屋记录')
})

test('a result not yet published: the backend\'s message, and a retry that loads again', async () => {
  wxFake.route('GET', '/consultations/7/results', () => ({ status: 409, body: { error: { code: 'not_published', message: '结果尚未公布', details: {} } } }))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  expect(text(page)).toContain('⚠ 结果尚未公布')
  wxFake.route('GET', '/consultations/7/results', answer(PASSED))
  await tap(page, '.retry')
  expect(text(page)).toContain('✓ 通过')
})

test('without a consultation to show the page says where to go', async () => {
  const page = await open('pages/results/index', { id: '7' })
  expect(wxFake.calls).toEqual([])
  expect(text(page)).toContain('没有找到要查看的结果，请从首页进入')
})

test('in large type every text reads large', async () => {
  wxFake.route('GET', '/consultations/7/results', answer(PASSED))
  const page = await open('pages/results/index', { id: '7', flat_id: '312' })
  expect(await expectLargeType(page)).toBeGreaterThan(10)
})
