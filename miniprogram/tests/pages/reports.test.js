// Site reports of a project for residents: the list with statuses and answers, photos opened with the
// session, a report filed with its place and photos (the Idempotency-Key kept on a retry), WeChat's
// refusal and hold in words, and the reporter confirming or reopening with a reason.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const LIST = `/projects/${ids.project}/reports`
const OPTIONS = { project_id: String(ids.project), flat_id: String(ids.flat0) }

function serve(name) {
  wxFake.route('GET', LIST, fx.reply(name))
  wxFake.route('GET', '/me', fx.reply('me_resident'))
}

function filed() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === LIST)
}

async function write(page, words = '1单元楼道外的脚手架没有防护网，有砖头掉下来', place = '.place-unit') {
  page.instance.inputText({ detail: { value: words } })
  await settle()
  if (place) await tap(page, place)
}

// The list once report 1 is resolved: the list o0 read, with report 1 as the resolve answered it.
function listWith(report) {
  const list = fx.data('reports_reporter')
  list.reports = list.reports.map((r) => (r.id === report.id ? report : r))
  return list
}

test('the list: statuses, who reported, places, answers, history; photos open with the session', async () => {
  serve('reports_reporter')
  wxFake.route('GET', /^\/reports\/\d+\/photos\/\d$/, (req) => ({ status: 200, file: '/tmp/' + req.path.split('/').slice(2).join('-') + '.jpg' }))
  const page = await open('pages/reports/index', OPTIONS)
  expect(wxFake.calls.map((c) => c.path).sort()).toEqual([LIST, '/me'].sort())
  const shown = text(page)
  expect(find(page, '.counts').dom.textContent).toContain('共 5 条：待答复 3，已答复 2，已解决 0，重新打开 0')
  expect(page.querySelectorAll('.report-title').map((n) => n.dom.textContent.trim())).toEqual([
    '⋯ 待答复 · 居民监督员反映', '✓ 已答复', '✓ 已答复 · 我反映的',
  ])
  expect(shown).toContain('地点：1栋1单元 · 反映时间：2026年4月2日 10:06')
  expect(shown).toContain('工作人员答复（2026年4月2日 10:13）：已通知施工方今天加装防护网')
  expect(shown).toContain('⋯ 等待工作人员答复')
  // only my own answered report offers to confirm or reopen
  expect(page.querySelectorAll('.resolve')).toHaveLength(1)
  expect(page.querySelectorAll('.reopen')).toHaveLength(1)
  await tap(page, '.photos')
  expect(wxFake.calls.filter((c) => c.download).map((c) => c.path)).toEqual([
    `/reports/${ids.report1}/photos/1`, `/reports/${ids.report1}/photos/2`,
  ])
  expect(wxFake.calls.filter((c) => c.download).every((c) => c.header.Authorization === 'Bearer token-0')).toBe(true)
  expect(wxFake.navigations).toEqual([`preview:/tmp/${ids.report1}-photos-1.jpg,/tmp/${ids.report1}-photos-2.jpg`])
})

test('a report with its unit picked in one tap and two photos is sent once, with an Idempotency-Key', async () => {
  serve('reports_empty')
  wxFake.route('POST', LIST, () => { serve('reports_reporter'); return fx.reply('report_filed')() })
  const page = await open('pages/reports/index', OPTIONS)
  expect(page.querySelectorAll('.place').map((n) => n.dom.textContent.trim())).toEqual([
    '1栋1单元（我家所在单元）', '1栋（整栋楼）', '其他地点（自己填写）',
  ])
  await write(page)
  expect(find(page, '.place-unit').dom.textContent.trim()).toBe('✓ 1栋1单元（我家所在单元）')
  await tap(page, '.add-photo')
  await tap(page, '.add-photo')
  await tap(page, '.add-photo')
  expect(page.querySelectorAll('.photo')).toHaveLength(3)
  expect(find(page, '.add-photo')).toBeFalsy() // at most 3
  page.querySelectorAll('.remove-photo')[2].dispatchEvent('tap')
  await settle()
  expect(page.querySelectorAll('.photo')).toHaveLength(2)
  await tap(page, '.submit')
  expect(filed()).toHaveLength(1)
  const sent = fx.request('report_filed')
  expect(filed()[0].data).toEqual({ text: sent.text, place: sent.place, photos: ['aGVsbG8=', 'aGVsbG8='] })
  expect(filed()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(find(page, '.done').dom.textContent).toContain('✓ 已提交，工作人员会尽快答复')
  expect(page.querySelectorAll('.photo')).toHaveLength(0)
  expect(page.querySelectorAll('.report')).toHaveLength(3) // the list read again
})

test('a place in words, and what is missing is said before anything is sent', async () => {
  serve('reports_empty')
  wxFake.route('POST', LIST, fx.reply('report_filed'))
  const page = await open('pages/reports/index', OPTIONS)
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 请写下现场的问题')
  await write(page, '东门施工围挡倒了，晚上没有照明', null)
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 请选择问题所在的地点')
  await tap(page, '.place-text')
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('请填写问题所在的地点')
  expect(filed()).toHaveLength(0)
  page.instance.inputPlace({ detail: { value: ' 小区东门 ' } })
  await settle()
  await tap(page, '.submit')
  expect(filed()[0].data).toEqual({ text: '东门施工围挡倒了，晚上没有照明', place: { text: '小区东门' }, photos: [] })
})

test('a network failure keeps the report and its photos and sends them again with the same key', async () => {
  serve('reports_empty')
  wxFake.route('POST', LIST, () => 'fail')
  const page = await open('pages/reports/index', OPTIONS)
  await write(page)
  await tap(page, '.add-photo')
  await tap(page, '.submit')
  expect(find(page, '.failure').dom.textContent).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(find(page, '.failure').dom.textContent).toContain('您写的内容和照片都还在')
  wxFake.route('POST', LIST, fx.reply('report_filed'))
  await tap(page, '.submit')
  expect(find(page, '.done')).toBeTruthy()
  expect(new Set(filed().map((c) => c.header['Idempotency-Key'])).size).toBe(1)
  expect(new Set(filed().map((c) => JSON.stringify(c.data))).size).toBe(1)
})

test('WeChat refuses a risky report: the backend\'s words, the text kept for changing', async () => {
  serve('reports_empty')
  wxFake.route('POST', LIST, fx.reply('report_risky'))
  const page = await open('pages/reports/index', OPTIONS)
  await write(page, '施工队有人组织网络赌博', '.place-text')
  page.instance.inputPlace({ detail: { value: '小区东门' } })
  await settle()
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 内容含有不当信息，未能提交')
  expect(page.instance.data.text).toBe('施工队有人组织网络赌博')
  expect(find(page, '.done')).toBeFalsy()
})

test('a report WeChat holds: the reporter is told staff review it first; the list says so on it', async () => {
  serve('reports_empty')
  wxFake.route('POST', LIST, () => { serve('reports_held_own'); return fx.reply('report_held')() })
  const page = await open('pages/reports/index', OPTIONS)
  await write(page, '材料堆在楼道，施工队说可以加微信私下处理', '.place-building')
  await tap(page, '.submit')
  expect(find(page, '.done').dom.textContent).toContain('✓ 已提交。内容需要工作人员审核，审核后其他居民才能看到')
  expect(text(page)).toContain('⚠ 内容需要工作人员审核，审核后其他居民才能看到；工作人员已经收到。')
})

test('the reporter confirms an answered report resolved, then reopens it with a reason', async () => {
  serve('reports_reporter')
  wxFake.route('POST', `/reports/${ids.report1}/resolve`, () => {
    wxFake.route('GET', LIST, fx.answer(listWith(fx.data('report_resolved'))))
    return fx.reply('report_resolved')()
  })
  const page = await open('pages/reports/index', OPTIONS)
  await tap(page, '.resolve')
  expect(wxFake.toasts[0]).toContain('确认这个问题已经解决了吗')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([`/reports/${ids.report1}/resolve`])
  expect(text(page)).toContain('✓ 已解决 · 我反映的')
  expect(text(page)).toContain('2026年4月2日 10:17 反映人确认已解决')
  expect(find(page, '.resolve')).toBeFalsy()
  await tap(page, '.reopen')
  await tap(page, '.send-reopen')
  expect(find(page, '.report-error').dom.textContent).toContain('⚠ 请说明为什么重新打开')
  expect(wxFake.calls.filter((c) => c.path.endsWith('/reopen'))).toHaveLength(0)
  wxFake.route('POST', `/reports/${ids.report1}/reopen`, () => {
    serve('reports_reporter_after')
    return fx.reply('report_reopened')()
  })
  page.instance.inputReason({ currentTarget: { dataset: { id: ids.report1 } }, detail: { value: '防护网只装了一半，2楼以上还没有' } })
  await settle()
  await tap(page, '.send-reopen')
  const reopen = wxFake.calls.filter((c) => c.path === `/reports/${ids.report1}/reopen`)
  expect(reopen.map((c) => c.data)).toEqual([fx.request('report_reopened')])
  expect(text(page)).toContain('⚠ 重新打开 · 我反映的')
  expect(text(page)).toContain('反映人重新打开：防护网只装了一半，2楼以上还没有')
  expect(find(page, '.reopen')).toBeFalsy()
})

test('a refused step is said on the report (the backend\'s words)', async () => {
  serve('reports_reporter')
  wxFake.route('POST', `/reports/${ids.report1}/reopen`, fx.reply('report_reopen_risky'))
  const page = await open('pages/reports/index', OPTIONS)
  await tap(page, '.reopen')
  page.instance.inputReason({ currentTarget: { dataset: { id: ids.report1 } }, detail: { value: '王八蛋施工队' } })
  await settle()
  await tap(page, '.send-reopen')
  expect(find(page, '.report-error').dom.textContent).toContain('⚠ 该反映当前为「重新打开」，不能重新打开')
})

test('before the works no form: the phase is said', async () => {
  wxFake.route('GET', `/projects/${ids.project2}/reports`, fx.reply('reports_not_open'))
  wxFake.route('GET', '/me', fx.reply('me_resident'))
  const page = await open('pages/reports/index', { project_id: String(ids.project2), flat_id: String(ids.flat0) })
  expect(find(page, '.form')).toBeFalsy()
  expect(find(page, '.not-open').dom.textContent).toContain('项目当前处于「需求调查」阶段，只有在施工和竣工验收阶段可以反映现场问题。')
  expect(text(page)).toContain('还没有人反映现场问题。')
})

test('a supervisor with no flat of the compound: the place in words only; a supervisor confirms or reopens', async () => {
  wxFake.route('GET', LIST, fx.reply('reports_supervisor'))
  const page = await open('pages/reports/index', { project_id: String(ids.project) })
  expect(wxFake.calls.map((c) => c.path)).toEqual([LIST]) // no flat: no need to ask who I am
  expect(page.querySelectorAll('.place').map((n) => n.dom.textContent.trim())).toEqual(['其他地点（自己填写）'])
  expect(page.querySelectorAll('.reopen').length).toBeGreaterThan(0)
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', LIST, () => 'fail')
  wxFake.route('GET', '/me', fx.reply('me_resident'))
  const page = await open('pages/reports/index', OPTIONS)
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  serve('reports_reporter')
  await tap(page, '.retry')
  expect(find(page, '.report')).toBeTruthy()
})

test('in large type every text of the page reads at least 18px', async () => {
  serve('reports_reporter')
  const page = await open('pages/reports/index', OPTIONS)
  await tap(page, '.reopen')
  await tap(page, '.place-text')
  expect(await expectLargeType(page)).toBeGreaterThan(25)
})
