// Staff and one survey: live results with the rooms of comments, the held texts released or
// rejected with a reason, a grid worker told who reviews, the workbook opened.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const PATH = '/surveys/' + ids.needs_survey
const OPTIONS = { id: String(ids.needs_survey) }

// GET /surveys/<id> for staff, as GET /surveys listed it while the survey was open.
function openSurvey() {
  return fx.data('surveys_staff_open').find((s) => s.id === ids.needs_survey)
}

function serveOpen() {
  wxFake.route('GET', PATH, fx.answer(openSurvey()))
  wxFake.route('GET', PATH + '/results', fx.reply('needs_results_staff_open'))
  wxFake.route('GET', PATH + '/held', fx.reply('needs_held_list'))
}

test('an open survey: live results, and the texts WeChat held, each with its room', async () => {
  serveOpen()
  const page = await open('pages/staff/survey/index', OPTIONS)
  expect(wxFake.calls.map((c) => c.path)).toEqual([PATH, PATH + '/results', PATH + '/held'])
  const shown = text(page)
  expect(shown).toContain('阳光里小区 · 需求调查 · 进行中')
  expect(shown).toContain('已答 10 / 12 户')
  expect(find(page, '.live').dom.textContent).toContain('⋯ 问卷进行中，以下为实时统计')
  expect(page.querySelectorAll('.held-room').map((n) => n.dom.textContent.trim())).toEqual([
    '1栋1单元102（2026年3月3日 09:15 提交）', '1栋1单元201（2026年3月3日 09:17 提交）',
  ])
  expect(shown).toContain('其他意见和建议：“外墙的事可以加微信详细说”')
  expect(shown).toContain('另有 2 条意见待工作人员审核，暂不公开')
  expect(page.querySelectorAll('.comment').map((n) => n.dom.textContent.trim())).toEqual([
    '1栋1单元101：“雨天1单元门口积水严重，希望先改管网。”', '1栋2单元101：“希望施工期间保留一条出入通道。”',
  ])
})

test('a held text released: it leaves the list and joins the results', async () => {
  serveOpen()
  const response = `/survey-responses/${fx.data('needs_held_list')[0].id}/release`
  wxFake.route('POST', response, () => {
    wxFake.route('GET', PATH + '/results', fx.reply('needs_results_staff_released'))
    return fx.reply('needs_release')()
  })
  const page = await open('pages/staff/survey/index', OPTIONS)
  await tap(page, '.release')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([response])
  expect(page.querySelectorAll('.held-item')).toHaveLength(1)
  expect(find(page, '.reviewed').dom.textContent).toContain('1栋1单元102：✓ 已公开，已计入结果中的意见')
  expect(text(page)).toContain('1栋1单元102：“外墙的事可以加微信详细说”')
  expect(text(page)).toContain('另有 1 条意见待工作人员审核')
})

test('a held text rejected needs the reason the flat reads; the flat\'s other answers still count', async () => {
  serveOpen()
  const held = fx.data('needs_held_list')
  wxFake.route('GET', PATH + '/held', fx.answer([held[1]]))
  const path = `/survey-responses/${held[1].id}/reject`
  wxFake.route('POST', path, fx.reply('needs_reject'))
  const page = await open('pages/staff/survey/index', OPTIONS)
  await tap(page, '.start-reject')
  await tap(page, '.reject')
  expect(find(page, '.held-error').dom.textContent).toContain('⚠ 请填写不予公开的原因，该户居民会看到')
  page.instance.inputReason({ currentTarget: { dataset: { id: held[1].id } }, detail: { value: '与本次调查无关，且含引导扫码的内容' } })
  await settle()
  await tap(page, '.reject')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.data])).toEqual([[path, fx.request('needs_reject')]])
  expect(find(page, '.reviewed').dom.textContent).toContain('1栋1单元201：✗ 不予公开（原因：与本次调查无关，且含引导扫码的内容）；该户的其他回答仍计入')
  expect(find(page, '.held-note').dom.textContent).toContain('✓ 没有待审核的文字意见。')
})

test('released already: the backend\'s 409 is said on the text', async () => {
  serveOpen()
  wxFake.route('POST', /^\/survey-responses\/\d+\/release$/, fx.reply('needs_release_again'))
  const page = await open('pages/staff/survey/index', OPTIONS)
  await tap(page, '.release')
  expect(find(page, '.held-error').dom.textContent).toContain('⚠ 只有待审核的文字意见可以审核')
  expect(page.querySelectorAll('.held-item')).toHaveLength(2)
})

test('a grid worker reads the results and is told who reviews the held texts', async () => {
  wxFake.route('GET', PATH, fx.reply('needs_read_gw'))
  wxFake.route('GET', PATH + '/results', fx.reply('needs_results_gw'))
  wxFake.route('GET', PATH + '/held', fx.reply('needs_held_forbidden'))
  const page = await open('pages/staff/survey/index', OPTIONS)
  expect(find(page, '.held-note').dom.textContent).toContain('您不能审核问卷中的文字意见，请由本范围的业委会/居民代表、社区工作人员、街道或区住建干部操作')
  expect(find(page, '.release')).toBeFalsy()
  expect(find(page, '.participation')).toBeTruthy()
})

test('closed: the final results, and the workbook opened', async () => {
  wxFake.route('GET', PATH, fx.reply('needs_closed')) // the survey as closing it answered
  wxFake.route('GET', PATH + '/results', fx.reply('needs_results_staff'))
  wxFake.route('GET', PATH + '/held', fx.reply('needs_held_empty'))
  wxFake.route('GET', PATH + '/results.xlsx', () => ({ status: 200, file: '/tmp/survey.xlsx' }))
  const page = await open('pages/staff/survey/index', OPTIONS)
  expect(find(page, '.live')).toBeFalsy()
  expect(find(page, '.held-note').dom.textContent).toContain('✓ 没有待审核的文字意见。')
  expect(text(page)).toContain('参与 10 / 12 户（83.3%）')
  await tap(page, '.workbook')
  expect(wxFake.documents).toEqual([{ filePath: '/tmp/survey.xlsx', fileType: 'xlsx' }])
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', PATH, () => 'fail')
  const page = await open('pages/staff/survey/index', OPTIONS)
  expect(text(page)).toContain('⚠ 网络不给力')
  serveOpen()
  await tap(page, '.retry')
  expect(page.querySelectorAll('.held-item')).toHaveLength(2)
})

test('in large type every text of the page reads at least 18px', async () => {
  serveOpen()
  const page = await open('pages/staff/survey/index', OPTIONS)
  await tap(page, '.start-reject')
  expect(await expectLargeType(page)).toBeGreaterThan(30)
})
