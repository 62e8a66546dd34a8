// Staff and a project's site reports: every report with the reporter's masked name, the held ones
// released or rejected with a reason, open ones answered, photos opened, refusals in words.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const LIST = `/projects/${ids.project}/reports`
const OPTIONS = { project_id: String(ids.project) }

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST')
}


test('every report with its reporter masked, held ones marked, what each allows', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  const page = await open('pages/staff/reports/index', OPTIONS)
  const shown = text(page)
  expect(find(page, '.counts').dom.textContent).toContain('共 5 条（不含不予公开的）：待答复 3，已答复 1，已解决 0，重新打开 1；待审核 2 条')
  expect(page.querySelectorAll('.report-title').map((n) => n.dom.textContent.trim())).toEqual([
    '⋯ 待答复 · 2栋', '⋯ 待答复 · 2栋门口', '⋯ 待答复 · 1栋', '✓ 已答复 · 小区东门', '⚠ 重新打开 · 1栋1单元',
  ])
  expect(shown).toContain('钱**（居民监督员） · 2026年4月2日 10:10')
  expect(shown).toContain('张** · 2026年4月2日 10:06 · 重新打开 1 次')
  expect(shown).toContain('⚠ 微信内容安全检测需人工审核：公开前只有反映人和工作人员能看到')
  expect(shown).toContain('反映人重新打开：防护网只装了一半，2楼以上还没有')
  expect(page.querySelectorAll('.release')).toHaveLength(2)
  expect(page.querySelectorAll('.answer')).toHaveLength(4) // not the answered one
  await tap(page, '.filter-held')
  expect(page.querySelectorAll('.report')).toHaveLength(2)
  await tap(page, '.filter-todo')
  expect(page.querySelectorAll('.report')).toHaveLength(4)
})

test('a held report released, then the list as it now is', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  wxFake.route('POST', `/reports/${ids.report3}/release`, () => {
    wxFake.route('GET', LIST, fx.reply('reports_staff_after'))
    return fx.reply('report_released')()
  })
  const page = await open('pages/staff/reports/index', OPTIONS)
  await tap(page, '.release-' + ids.report3)
  expect(posts().map((c) => c.path)).toEqual([`/reports/${ids.report3}/release`])
  expect(page.querySelectorAll('.release')).toHaveLength(0)
  expect(wxFake.toasts).toContain('已完成')
})

test('a held report kept from the compound needs a reason its reporter reads', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  wxFake.route('POST', `/reports/${ids.report4}/reject`, () => {
    wxFake.route('GET', LIST, fx.reply('reports_staff_after'))
    return fx.reply('report_rejected')()
  })
  const page = await open('pages/staff/reports/index', OPTIONS)
  await tap(page, '.start-reject-' + ids.report4)
  await tap(page, '.reject-' + ids.report4)
  expect(find(page, '.report-error').dom.textContent).toContain('⚠ 请填写不予公开的原因')
  expect(posts()).toEqual([])
  page.instance.inputReason({ currentTarget: { dataset: { id: ids.report4 } }, detail: { value: '与施工无关' } })
  await settle()
  await tap(page, '.reject-' + ids.report4)
  expect(posts().map((c) => [c.path, c.data])).toEqual([[`/reports/${ids.report4}/reject`, fx.request('report_rejected')]])
  expect(text(page)).toContain('✗ 已不予公开')
})

test('an open report answered; answering twice is refused in the backend\'s words', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  wxFake.route('POST', `/reports/${ids.report1}/answer`, fx.reply('report_answer_twice'))
  const page = await open('pages/staff/reports/index', OPTIONS)
  await tap(page, '.answer-' + ids.report1)
  expect(find(page, '.report-error-' + ids.report1).dom.textContent).toContain('⚠ 请填写答复')
  page.instance.inputAnswer({ currentTarget: { dataset: { id: ids.report1 } }, detail: { value: '好' } })
  await settle()
  await tap(page, '.answer-' + ids.report1)
  expect(find(page, '.report-error-' + ids.report1).dom.textContent).toContain('⚠ 该反映当前为「已答复」，不能答复')
  wxFake.route('POST', `/reports/${ids.report1}/answer`, () => {
    wxFake.route('GET', LIST, fx.reply('reports_staff_after'))
    return fx.reply('report_answered_again')()
  })
  page.instance.inputAnswer({ currentTarget: { dataset: { id: ids.report1 } }, detail: { value: '2楼以上的防护网已全部装好' } })
  await settle()
  await tap(page, '.answer-' + ids.report1)
  expect(posts().map((c) => c.data)).toEqual([{ answer: '好' }, fx.request('report_answered_again')])
  expect(text(page)).toContain('2楼以上的防护网已全部装好')
})

test('photos open with the session; one that cannot be fetched says so', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  wxFake.route('GET', /^\/reports\/\d+\/photos\/1$/, () => ({ status: 200, file: '/tmp/p1.jpg' }))
  wxFake.route('GET', /^\/reports\/\d+\/photos\/2$/, () => ({ status: 404 }))
  const page = await open('pages/staff/reports/index', OPTIONS)
  await tap(page, '.photos')
  expect(find(page, '.report-error').dom.textContent).toContain('⚠ 没有找到该文件')
  expect(wxFake.navigations).toEqual([])
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', LIST, () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该改造项目', details: {} } } }))
  const page = await open('pages/staff/reports/index', OPTIONS)
  expect(text(page)).toContain('⚠ 没有找到该改造项目')
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  await tap(page, '.retry')
  expect(page.querySelectorAll('.report')).toHaveLength(5)
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_staff'))
  const page = await open('pages/staff/reports/index', OPTIONS)
  await tap(page, '.start-reject')
  expect(await expectLargeType(page)).toBeGreaterThan(30)
})
