// My pledges: each with its plan, room, status, total, receipt, payment state and payments, and
// the signed agreement opened in WeChat's document viewer.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../plan-fixtures')

const { answer, refused } = fx

const MINE = [
  fx.pledge({ state: 'partly_paid', state_name: '部分缴纳', paid_fen: 100000, payments: [fx.PAYMENT],
    lines: fx.pledge().lines.map((l) => (l.item === 'elevator1' ? { ...l, paid_fen: 100000 } : l)) }),
  fx.pledge({ id: 3, receipt: 'K7M2QX9PRT4W', status: 'superseded', status_name: '已被该户后来的承诺替代', state: null,
    state_name: '该承诺已不再计入', total_fen: 6601179, signed_at: '2026-11-27T02:00:00Z',
    lines: [fx.pledge().lines[0]] }),
]

test('lists my pledges with their receipts, what counts and what is paid', async () => {
  wxFake.route('GET', '/pledges', answer(MINE))
  const page = await open('pages/pledges/index')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/pledges'])
  const cards = page.querySelectorAll('.pledge')
  expect(cards.length).toBe(2)
  const first = cards[0].dom.textContent.replace(/\s+/g, ' ')
  expect(first).toContain('3栋加装电梯出资方案')
  expect(first).toContain('3栋1单元301 · 承诺 ¥66,071.79')
  expect(first).toContain('✓ 有效（计入统计）')
  expect(first).toContain('回执码：9XCFVAZB84NF')
  expect(first).toContain('线上签署 · 2026年11月28日 19:54 · 方案认筹中')
  expect(first).toContain('缴款情况：部分缴纳，已缴 ¥1,000.00')
  expect(first).toContain('1单元加装电梯：直接缴纳 ¥66,011.79，已缴 ¥1,000.00')
  expect(first).toContain('楼道美化：投工投劳 ¥60.00（投工 2 小时）')
  expect(first).toContain('缴款 ¥1,000.00 · 直接缴纳 · 2026-11-20 · 凭证号 X1')
  const second = cards[1].dom.textContent.replace(/\s+/g, ' ')
  expect(second).toContain('已被该户后来的承诺替代')
  expect(second).toContain('回执码：K7M2QX9PRT4W')
  expect(second).not.toContain('缴款情况')
})

test('the agreement is downloaded with the session and opened as a PDF', async () => {
  wxFake.route('GET', '/pledges', answer(MINE))
  wxFake.route('GET', '/pledges/1/agreement.pdf', () => ({ status: 200, file: '/tmp/agreement-1.pdf' }))
  const page = await open('pages/pledges/index')
  await tap(page, '.agreement')
  const fetched = wxFake.calls.filter((c) => c.download)
  expect(fetched.map((c) => [c.path, c.header.Authorization])).toEqual([['/pledges/1/agreement.pdf', 'Bearer token-0']])
  expect(wxFake.documents).toEqual([{ filePath: '/tmp/agreement-1.pdf', fileType: 'pdf' }])
})

test('an agreement that is not there, or that WeChat cannot open, is said on its card', async () => {
  wxFake.route('GET', '/pledges', answer(MINE))
  const page = await open('pages/pledges/index')
  await tap(page, '.agreement')
  expect(find(page, '.failure').dom.textContent).toContain('⚠ 没有找到该文件')
  wxFake.route('GET', '/pledges/1/agreement.pdf', () => ({ status: 200, file: '/tmp/agreement-1.pdf' }))
  wx.openDocument = (o) => o.fail({ errMsg: 'openDocument:fail filetype not supported' })
  await tap(page, '.agreement')
  expect(find(page, '.failure').dom.textContent).toContain('⚠ 文件已下载，但无法打开')
})

test('a pledge leads back to its plan for its flat', async () => {
  wxFake.route('GET', '/pledges', answer(MINE))
  const page = await open('pages/pledges/index')
  await tap(page, '.open-plan')
  expect(wxFake.navigations).toEqual(['/pages/plan/index?id=1&flat_id=5'])
})

test('no pledge yet says where to sign one', async () => {
  wxFake.route('GET', '/pledges', answer([]))
  const page = await open('pages/pledges/index')
  expect(text(page)).toContain('您还没有出资承诺')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', '/pledges', refused(500, 'server', '服务暂时不可用，请稍后再试'))
  const page = await open('pages/pledges/index')
  expect(text(page)).toContain('⚠ 服务暂时不可用，请稍后再试')
  wxFake.route('GET', '/pledges', answer(MINE))
  await tap(page, '.retry')
  expect(text(page)).toContain('回执码：9XCFVAZB84NF')
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', '/pledges', answer(MINE))
  const page = await open('pages/pledges/index')
  expect(await expectLargeType(page)).toBeGreaterThan(10)
})
