// Tally: participation and approval by headcount and by area against each threshold, what is
// still needed in words, the local conditions, each building and unit. Fixtures are what
// app/services/tally.py count() answers for a 12-flat building (two developer-held flats).
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

// Open: 6 of 11 persons answered (4 agree, 1 disagree, 1 abstain); 1栋1单元101 must consent.
const LIVE = {
  rule: {"preset": "major", "thresholds": [{"what": "participate", "measure": "persons", "base": "all", "share": "2/3", "strict": false}, {"what": "participate", "measure": "area", "base": "all", "share": "2/3", "strict": false}, {"what": "agree", "measure": "persons", "base": "participants", "share": "3/4", "strict": false}, {"what": "agree", "measure": "area", "base": "participants", "share": "3/4", "strict": false}], "required_consent_flat_ids": [1], "objection_veto": false},
  roll: {"flats": 12, "persons": 11, "area": "1066.20", "digest": "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012345"},
  participation: {"persons": 6, "area": "533.10", "flats": 6, "met": false, "thresholds": [{"what": "participate", "measure": "persons", "base": "all", "share": "2/3", "strict": false, "value": 6, "of": 11, "met": false, "needed": 2}, {"what": "participate", "measure": "area", "base": "all", "share": "2/3", "strict": false, "value": "533.10", "of": "1066.20", "met": false, "needed": "177.70"}]},
  approval: {"persons": 4, "area": "355.40", "flats": 4, "met": false, "thresholds": [{"what": "agree", "measure": "persons", "base": "participants", "share": "3/4", "strict": false, "value": 4, "of": 6, "met": false, "needed": 2}, {"what": "agree", "measure": "area", "base": "participants", "share": "3/4", "strict": false, "value": "355.40", "of": "533.10", "met": false, "needed": "177.70"}]},
  choices: {"agree": {"label": "同意", "persons": 4, "area": "355.40", "flats": 4}, "disagree": {"label": "不同意", "persons": 1, "area": "85.20", "flats": 1}, "abstain": {"label": "弃权", "persons": 1, "area": "92.50", "flats": 1}},
  required_consent: {"flats": [1], "missing": [], "met": true},
  veto: {"enabled": false, "objections": 1, "met": true},
  passed: false,
  still_needed: "参与还差 2 户 / 177.70 m²；同意还差 2 户 / 177.70 m²",
  buildings: [{"id": 1, "flats": 12, "answered": 6, "area": "1066.20", "answered_area": "533.10", "choices": {"agree": 4, "disagree": 1, "abstain": 1}, "units": [{"id": 1, "flats": 6, "answered": 4, "area": "533.10", "answered_area": "355.40", "choices": {"agree": 3, "disagree": 1}, "name": "1单元"}, {"id": 2, "flats": 6, "answered": 2, "area": "533.10", "answered_area": "177.70", "choices": {"agree": 1, "abstain": 1}, "name": "2单元"}], "name": "1栋"}],
  stored: false,
}

// Closed and stored: thresholds reached, but one explicit objection under a veto rule.
const DONE = {
  rule: {"preset": "major", "thresholds": [{"what": "participate", "measure": "persons", "base": "all", "share": "2/3", "strict": false}, {"what": "participate", "measure": "area", "base": "all", "share": "2/3", "strict": false}, {"what": "agree", "measure": "persons", "base": "participants", "share": "3/4", "strict": false}, {"what": "agree", "measure": "area", "base": "participants", "share": "3/4", "strict": false}], "required_consent_flat_ids": [2], "objection_veto": true},
  roll: {"flats": 12, "persons": 11, "area": "1066.20", "digest": "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012345"},
  participation: {"persons": 11, "area": "1066.20", "flats": 12, "met": true, "thresholds": [{"what": "participate", "measure": "persons", "base": "all", "share": "2/3", "strict": false, "value": 11, "of": 11, "met": true, "needed": 0}, {"what": "participate", "measure": "area", "base": "all", "share": "2/3", "strict": false, "value": "1066.20", "of": "1066.20", "met": true, "needed": "0.00"}]},
  approval: {"persons": 10, "area": "981.00", "flats": 11, "met": true, "thresholds": [{"what": "agree", "measure": "persons", "base": "participants", "share": "3/4", "strict": false, "value": 10, "of": 11, "met": true, "needed": 0}, {"what": "agree", "measure": "area", "base": "participants", "share": "3/4", "strict": false, "value": "981.00", "of": "1066.20", "met": true, "needed": "0.00"}]},
  choices: {"agree": {"label": "同意", "persons": 10, "area": "981.00", "flats": 11}, "disagree": {"label": "不同意", "persons": 1, "area": "85.20", "flats": 1}, "abstain": {"label": "弃权", "persons": 0, "area": "0.00", "flats": 0}},
  required_consent: {"flats": [2], "missing": [], "met": true},
  veto: {"enabled": true, "objections": 1, "met": false},
  passed: false,
  still_needed: "已达到表决规则的要求",
  buildings: [{"id": 1, "flats": 12, "answered": 12, "area": "1066.20", "answered_area": "1066.20", "choices": {"agree": 11, "disagree": 1}, "units": [{"id": 1, "flats": 6, "answered": 6, "area": "533.10", "answered_area": "533.10", "choices": {"agree": 5, "disagree": 1}, "name": "1单元"}, {"id": 2, "flats": 6, "answered": 6, "area": "533.10", "answered_area": "533.10", "choices": {"agree": 6}, "name": "2单元"}], "name": "1栋"}],
  stored: true,
  counted_at: "2026-12-05T16:00:03Z",
}

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

function bars(page) {
  return page.querySelectorAll('.progress-bar').map((bar) => ({
    label: bar.querySelector('.progress-label').dom.textContent,
    percent: bar.querySelector('.progress-percent').dom.textContent,
  }))
}

test('an open consultation: each threshold with its bar, percentage and what is missing', async () => {
  wxFake.route('GET', '/consultations/5/tally', answer(LIVE))
  const page = await open('pages/staff/tally/index', { id: '5', title: encodeURIComponent('1栋加装电梯') })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/consultations/5/tally'])
  const shown = text(page)
  expect(shown).toContain('1栋加装电梯')
  expect(shown).toContain('✗ 目前未达到表决规则的要求')
  expect(shown).toContain('参与还差 2 户 / 177.70 m²；同意还差 2 户 / 177.70 m²')
  expect(shown).toContain('⋯ 实时计票，征询仍在进行')
  expect(shown).toContain('名册（开始时冻结）：12 户 · 11 人 · 1066.20 m²')
  expect(shown).toContain('名册指纹：9f2c4e7a1b3d')
  expect(shown).toContain('参与：✗ 未达到')
  expect(shown).toContain('已参与：6 人 · 6 户 · 533.10 m²')
  expect(shown).toContain('要求：占全体人数 ≥ 2/3')
  expect(shown).toContain('✗ 未达到，还需 2 人参与')
  expect(shown).toContain('✗ 未达到，还需 177.70 m²同意')
  expect(shown).toContain('✗ 未达到，还需 2 人同意')
  expect(shown).toContain('要求：占参与者面积 ≥ 3/4')
  expect(shown).toContain('✓ 必须同意的住户均已同意')
  expect(shown).toContain('同意：4 人 · 4 户 · 355.40 m²')
  expect(shown).toContain('不同意 1 户')
  expect(shown).toContain('1栋2单元')

  const shownBars = bars(page)
  expect(shownBars.slice(0, 4)).toEqual([
    { label: '参与人数 6 人 / 11 人', percent: '54.5%' },
    { label: '参与面积 533.10 m² / 1066.20 m²', percent: '50%' },
    { label: '同意人数 4 人 / 6 人', percent: '66.6%' }, // 2/3 is cut down, never rounded up
    { label: '同意面积 355.40 m² / 533.10 m²', percent: '66.6%' },
  ])
  // the building, then its two units: answered flats, answered area, agreement
  expect(shownBars.slice(4, 7)).toEqual([
    { label: '已表决 6 / 12 户', percent: '50%' },
    { label: '已表决面积 533.10 / 1066.20 m²', percent: '50%' },
    { label: '同意 4 / 已表决 6 户', percent: '66.6%' },
  ])
  expect(shownBars.slice(7, 10)).toEqual([
    { label: '已表决 4 / 6 户', percent: '66.6%' },
    { label: '已表决面积 355.40 / 533.10 m²', percent: '66.6%' },
    { label: '同意 3 / 已表决 4 户', percent: '75%' },
  ])
  expect(shownBars.length).toBe(13)
})

test('a stored result that reached every threshold but met an objection under a veto', async () => {
  wxFake.route('GET', '/consultations/4/tally', answer(DONE))
  const page = await open('pages/staff/tally/index', { id: '4' })
  const shown = text(page)
  expect(shown).toContain('✗ 表决未通过')
  expect(shown).toContain('✓ 已截止，结果已存档（2026-12-06 00:00 计票）')
  expect(shown).toContain('✓ 参与和同意的人数、面积均已达到')
  expect(shown).toContain('✗ 有 1 人明确反对（本事项有反对即不通过）')
  expect(shown).toContain('参与：✓ 已达到')
  expect(shown).toContain('同意：✓ 已达到')
  expect(bars(page)[0]).toEqual({ label: '参与人数 11 人 / 11 人', percent: '100%' })
  expect(bars(page)[3]).toEqual({ label: '同意面积 981.00 m² / 1066.20 m²', percent: '92%' })
})

test('a missing required consenter is named', async () => {
  const tally = { ...LIVE, required_consent: { flats: [1], missing: ['1栋1单元101'], met: false } }
  wxFake.route('GET', '/consultations/5/tally', answer(tally))
  const page = await open('pages/staff/tally/index', { id: '5' })
  expect(text(page)).toContain('✗ 必须同意的住户尚未同意：1栋1单元101')
})

test('a consultation not yet open has no tally: said, not shown as a failure', async () => {
  wxFake.route('GET', '/consultations/6/tally', () => ({ status: 409, body: { error: { code: 'not_open', message: '征询尚未开始，没有计票', details: {} } } }))
  const page = await open('pages/staff/tally/index', { id: '6' })
  expect(text(page)).toContain('征询尚未开始，没有计票')
  expect(find(page, '.retry')).toBeFalsy()
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/consultations/5/tally', () => 'fail')
  const page = await open('pages/staff/tally/index', { id: '5' })
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  wxFake.route('GET', '/consultations/5/tally', answer(LIVE))
  await tap(page, '.retry')
  expect(text(page)).toContain('参与还差 2 户 / 177.70 m²')
})

test('in large type every text of the page and of its bars reads at least 18px', async () => {
  wxFake.route('GET', '/consultations/5/tally', answer(LIVE))
  const page = await open('pages/staff/tally/index', { id: '5' })
  expect(await expectLargeType(page)).toBeGreaterThan(10)
  await settle()
  expect(page.querySelectorAll('.progress-bar').length).toBe(13)
  for (const bar of page.querySelectorAll('.progress-bar')) {
    expect(bar.querySelector('.progress').dom.className).toContain('large')
  }
})
