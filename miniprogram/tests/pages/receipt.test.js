// Checking a receipt: what was recorded, when, and whether it counts; no sign-in needed.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')

// GET /receipts/<code> as the backend answers it.
const COUNTED = {
  receipt: 'Z24QW44JWJH8',
  consultation: { id: 7, title: '3号楼2单元加装电梯', status: 'open' },
  room: '3号楼2单元102',
  channel: 'online', channel_name: '线上签署',
  choice: 'agree', choice_label: '同意',
  recorded_at: '2026-11-29T02:05:00Z', confirmed_at: null,
  status: 'current', status_name: '有效（计入统计）', counted: true,
  ballot_hash: '995f5a2026fe280870aa2f64ea2a85e51d1a519da13567f7c7f10d3d9b4c7113',
}
const SUPERSEDED = {
  ...COUNTED, receipt: 'K7M3QX9PRT2A', choice: 'disagree', choice_label: '不同意',
  status: 'superseded', status_name: '已被本人后来的表决替代', counted: false,
}
const PAPER = {
  ...COUNTED, receipt: 'P3RT8WXY2M4N', channel: 'paper', channel_name: '纸质表决票',
  confirmed_at: '2026-11-30T06:30:00Z',
}

function answer(data) {
  return () => ({ status: 200, body: { data } })
}

test('arriving with a code shows what was recorded, when, and that it counts', async () => {
  wxFake.storage.delete('gongjian.token') // no session: checking a receipt needs none
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', answer(COUNTED))
  const page = await open('pages/receipt/index', { code: 'Z24QW44JWJH8' })
  expect(wxFake.calls.map((c) => [c.method, c.path])).toEqual([['GET', '/receipts/Z24QW44JWJH8']])
  expect(wxFake.calls[0].header.Authorization).toBeUndefined()
  const shown = text(page)
  expect(shown).toContain('✓ 计入统计')
  expect(shown).toContain('事项：3号楼2单元加装电梯')
  expect(shown).toContain('房屋：3号楼2单元102')
  expect(shown).toContain('意见：同意')
  expect(shown).toContain('方式：线上签署')
  expect(shown).toContain('记录时间：2026年11月29日 10:05')
  expect(shown).not.toContain('确认时间')
  expect(shown).toContain(COUNTED.ballot_hash)
})

test('a ballot that does not count says why', async () => {
  wxFake.route('GET', '/receipts/K7M3QX9PRT2A', answer(SUPERSEDED))
  const page = await open('pages/receipt/index', { code: 'K7M3QX9PRT2A' })
  expect(text(page)).toContain('✗ 未计入统计')
  expect(text(page)).toContain('原因：已被本人后来的表决替代')
})

test('a paper ballot shows when the second staff member confirmed it', async () => {
  wxFake.route('GET', '/receipts/P3RT8WXY2M4N', answer(PAPER))
  const page = await open('pages/receipt/index', { code: 'P3RT8WXY2M4N' })
  expect(text(page)).toContain('方式：纸质表决票')
  expect(text(page)).toContain('确认时间：2026年11月30日 14:30')
})

test('a code typed in lower case with spaces is looked up as printed', async () => {
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', answer(COUNTED))
  const page = await open('pages/receipt/index')
  expect(text(page)).toContain('请输入回执上的回执码')
  find(page, '.code').dispatchEvent('input', { detail: { value: 'z24q w44j wjh8' } })
  await settle()
  await tap(page, '.lookup')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/receipts/Z24QW44JWJH8'])
  expect(text(page)).toContain('✓ 计入统计')
})

test('nothing typed, or not a code: asks again without calling the backend', async () => {
  const page = await open('pages/receipt/index')
  await tap(page, '.lookup')
  expect(text(page)).toContain('⚠ 请先输入回执码')
  find(page, '.code').dispatchEvent('input', { detail: { value: '回执123' } })
  await settle()
  await tap(page, '.lookup')
  expect(text(page)).toContain('⚠ 回执码只有字母和数字，请核对后再输入')
  expect(wxFake.calls).toEqual([])
})

test('an unknown code shows the backend\'s message', async () => {
  wxFake.route('GET', '/receipts/NOSUCHCODE12', () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该回执，请核对回执码', details: {} } } }))
  const page = await open('pages/receipt/index', { code: 'NOSUCHCODE12' })
  expect(text(page)).toContain('⚠ 没有找到该回执，请核对回执码')
})

test('a network failure offers a retry that looks up again', async () => {
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', () => 'fail')
  const page = await open('pages/receipt/index', { code: 'Z24QW44JWJH8' })
  expect(text(page)).toContain('网络不给力，请检查网络后重试')
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', answer(COUNTED))
  await tap(page, '.retry')
  expect(text(page)).toContain('✓ 计入统计')
})

test('the way home', async () => {
  const page = await open('pages/receipt/index')
  await tap(page, '.home')
  expect(wxFake.navigations).toEqual(['/pages/index/index'])
})

test('in large type every text and button reads large', async () => {
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', answer(COUNTED))
  const page = await open('pages/receipt/index', { code: 'Z24QW44JWJH8' })
  expect(await expectLargeType(page)).toBeGreaterThan(5)
})

test('after signing as a written proxy the receipt says for whom (issue 15)', async () => {
  wxFake.route('GET', '/receipts/Z24QW44JWJH8', () => ({ status: 200, body: { data: {
    receipt: 'Z24QW44JWJH8', consultation: { id: 7, title: '3号楼2单元加装电梯', status: 'open' }, room: null,
    channel: 'online', channel_name: '线上', choice: 'agree', choice_label: '同意', recorded_at: '2026-11-29T02:05:00Z',
    confirmed_at: null, status: 'current', status_name: '有效（计入统计）', counted: true, ballot_hash: 'ab12',
  } } }))
  const page = await open('pages/receipt/index', { code: 'Z24QW44JWJH8', for: '%E7%8E%8B*', proxy: 'WT7K3M9Q' })
  expect(text(page)).toContain('您代 王* 签署（委托编号 WT7K3M9Q）')
  expect(text(page)).toContain('✓ 计入统计')
})
