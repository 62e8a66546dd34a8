// A survey for one flat: four kinds of question, required ones checked before sending, the flat's
// answer prefilled and replaced, the Idempotency-Key kept on a retry, WeChat's refusal and hold said
// in words, and the results once closed.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const NEEDS = '/surveys/' + ids.needs_survey
const OPTIONS = { id: String(ids.needs_survey), flat_id: String(ids.flat0) }

function serve(name) {
  wxFake.route('GET', NEEDS, fx.reply(name))
}

function posts() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === NEEDS + '/responses')
}

function buttons(page, selector) {
  return page.querySelectorAll(selector)
}

// The way a resident answers: taps for choices and stars, typing for text.
async function answerAll(page, { text: words = '雨天1单元门口积水严重，希望先改管网。', skipSingle = false } = {}) {
  const multiple = buttons(page, '.question-multiple .option')
  multiple[0].dispatchEvent('tap') // 雨污管网
  await settle()
  buttons(page, '.question-multiple .option')[2].dispatchEvent('tap') // 加装电梯
  await settle()
  if (!skipSingle) {
    buttons(page, '.question-single .option')[0].dispatchEvent('tap') // 屋面防水
    await settle()
  }
  buttons(page, '.question-rating .star')[1].dispatchEvent('tap') // 2 分
  await settle()
  page.instance.inputText({ currentTarget: { dataset: { key: 'advice' } }, detail: { value: words } })
  await settle()
}

test('an open survey: its four questions with their kinds and marks, nothing answered yet', async () => {
  serve('needs_unanswered')
  const page = await open('pages/survey/index', OPTIONS)
  expect(wxFake.calls.map((c) => c.path)).toEqual([NEEDS + '?flat_id=' + ids.flat0])
  const shown = text(page)
  expect(shown).toContain('阳光里小区改造需求调查')
  expect(shown).toContain('阳光里小区 · 需求调查 · 进行中')
  expect(shown).toContain('截止时间：2026年3月16日 09:04')
  expect(page.querySelectorAll('.q-title').map((n) => n.dom.textContent.trim())).toEqual([
    '第 1 题（可多选）必答', '第 2 题（单选）必答', '第 3 题（打分 1-5）必答', '第 4 题（文字）选答',
  ])
  expect(buttons(page, '.question-single .option').map((n) => n.dom.textContent.trim())).toEqual(['○ 屋面防水', '○ 楼道照明', '○ 管网改造'])
  expect(buttons(page, '.question-rating .star').map((n) => n.dom.textContent.trim())).toEqual(['☆1', '☆2', '☆3', '☆4', '☆5'])
  expect(find(page, '.prior')).toBeFalsy()
  expect(find(page, '.submit').dom.textContent.trim()).toBe('提交')
})

test('each kind answered and sent once, with an Idempotency-Key; the backend\'s answer is said', async () => {
  serve('needs_unanswered')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_answered'))
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page)
  expect(buttons(page, '.question-multiple .option').map((n) => n.dom.textContent.trim())).toEqual([
    '☑ 雨污管网', '☐ 外墙保温', '☑ 加装电梯', '☐ 停车位', '☐ 智慧安防',
  ])
  expect(buttons(page, '.question-single .option')[0].dom.textContent.trim()).toBe('◉ 屋面防水')
  expect(buttons(page, '.question-rating .star').map((n) => n.dom.textContent.trim())).toEqual(['★1', '★2', '☆3', '☆4', '☆5'])
  expect(find(page, '.rating-word').dom.textContent).toContain('您打了 2 分：不满意')
  expect(find(page, '.count').dom.textContent).toContain('已写 19 / 500 字')
  // a second tap on a chosen option takes it back
  buttons(page, '.question-multiple .option')[1].dispatchEvent('tap')
  await settle()
  buttons(page, '.question-multiple .option')[1].dispatchEvent('tap')
  await settle()
  await tap(page, '.submit')
  expect(posts()).toHaveLength(1)
  expect(posts()[0].data).toEqual(fx.request('needs_answered')) // what the scripted resident sent
  expect(posts()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  expect(find(page, '.done').dom.textContent).toContain('✓ 已提交，本户的答卷以这一次为准。')
  expect(find(page, '.prior-line').dom.textContent).toContain('✓ 本户已于 2026年3月3日 09:13 提交答卷（您本人填写）')
})

test('a required question left unanswered is refused before anything is sent', async () => {
  serve('needs_unanswered')
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page, { skipSingle: true })
  await tap(page, '.submit')
  expect(posts()).toHaveLength(0)
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 还有 1 道必答题没有回答：第 2 题「您家所在楼栋最急需的是哪一项？」')
  expect(find(page, '.question-single .problem').dom.textContent).toContain('这道题必须回答')
  buttons(page, '.question-single .option')[0].dispatchEvent('tap')
  await settle()
  expect(find(page, '.form-error')).toBeFalsy()
  expect(find(page, '.problem')).toBeFalsy()
})

test('an optional text may stay empty: it is left out of what is sent', async () => {
  serve('needs_unanswered')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_answered'))
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page, { text: '   ' })
  await tap(page, '.submit')
  expect(posts()[0].data).toEqual({ flat_id: ids.flat0, answers: { items: ['pipes', 'elevator'], first: 'roof', now: 2 } })
})

test('a network failure keeps the answers and sends them again with the same key', async () => {
  serve('needs_unanswered')
  wxFake.route('POST', NEEDS + '/responses', () => 'fail')
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page)
  await tap(page, '.submit')
  expect(find(page, '.failure').dom.textContent).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(find(page, '.failure').dom.textContent).toContain('您的回答都还在')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_answered'))
  await tap(page, '.submit')
  expect(find(page, '.done')).toBeTruthy()
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThanOrEqual(3) // two tries of the first tap (request.js retries once), then one
  expect(new Set(keys).size).toBe(1)
  expect(new Set(posts().map((c) => JSON.stringify(c.data))).size).toBe(1)
  // another answer afterwards is another request, with another key
  buttons(page, '.question-rating .star')[3].dispatchEvent('tap')
  await settle()
  await tap(page, '.submit')
  expect(new Set(posts().map((c) => c.header['Idempotency-Key'])).size).toBe(2)
})

test('WeChat refuses a risky text: said in words at the text, the answers kept, a new key for the new text', async () => {
  serve('needs_unanswered')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_risky'))
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page, { text: '有人在楼道搞网络赌博' })
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 内容含有不当信息，未能提交，请修改后重新提交')
  expect(find(page, '.question-text .problem').dom.textContent).toContain('⚠ 内容含有不当信息，未能提交')
  expect(find(page, '.done')).toBeFalsy()
  expect(buttons(page, '.question-single .option')[0].dom.textContent.trim()).toBe('◉ 屋面防水')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_answered'))
  page.instance.inputText({ currentTarget: { dataset: { key: 'advice' } }, detail: { value: '雨天1单元门口积水严重，希望先改管网。' } })
  await settle()
  expect(find(page, '.problem')).toBeFalsy()
  await tap(page, '.submit')
  const keys = posts().map((c) => c.header['Idempotency-Key'])
  expect(new Set(keys).size).toBe(2)
  expect(find(page, '.done')).toBeTruthy()
})

test('a text WeChat holds for review: the resident is told it waits for staff and the rest counts', async () => {
  wxFake.route('GET', NEEDS, fx.reply('needs_unanswered'))
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_held'))
  const page = await open('pages/survey/index', { id: String(ids.needs_survey), flat_id: String(ids.flat1) })
  await answerAll(page, { text: '外墙的事可以加微信详细说' })
  await tap(page, '.submit')
  expect(find(page, '.done').dom.textContent).toContain('✓ 已提交。您填写的文字意见需要工作人员审核，审核后才会公开；其他回答已经计入。')
  expect(find(page, '.prior-state').dom.textContent).toContain('正在等待工作人员审核')
})

test('opened again while held, and once rejected, the flat\'s answer says so', async () => {
  serve('needs_held_read')
  let page = await open('pages/survey/index', { id: String(ids.needs_survey), flat_id: String(ids.flat1) })
  expect(find(page, '.prior-state').dom.textContent).toContain('⚠ 本户答卷中的文字意见正在等待工作人员审核，审核后才会公开；其他回答已经计入。')
  const read = fx.data('needs_held_read')
  const rejected = fx.data('needs_reject')
  Object.assign(read.flat.response, { text_state: rejected.text_state, text_state_name: rejected.text_state_name, review_reason: rejected.review_reason })
  wxFake.route('GET', NEEDS, fx.answer(read))
  page = await open('pages/survey/index', { id: String(ids.needs_survey), flat_id: String(ids.flat1) })
  expect(find(page, '.prior-state').dom.textContent).toContain('⚠ 工作人员审核后未公开本户的文字意见，原因：与本次调查无关，且含引导扫码的内容。其他回答仍然计入。')
})

test('the flat\'s current answer is filled in, and a new one is said to replace it', async () => {
  serve('needs_answered_read')
  const page = await open('pages/survey/index', OPTIONS)
  expect(find(page, '.prior-line').dom.textContent).toContain('✓ 本户已于 2026年3月3日 09:13 提交答卷（您本人填写）')
  expect(find(page, '.replaces').dom.textContent).toContain('再次提交将替换本户之前的答卷，以最后一次为准')
  expect(buttons(page, '.question-multiple .option').map((n) => n.dom.textContent.trim())).toEqual([
    '☑ 雨污管网', '☐ 外墙保温', '☑ 加装电梯', '☐ 停车位', '☐ 智慧安防',
  ])
  expect(buttons(page, '.question-single .option')[0].dom.textContent.trim()).toBe('◉ 屋面防水')
  expect(find(page, '.rating-word').dom.textContent).toContain('您打了 2 分：不满意')
  expect(page.instance.data.questions[3].value).toBe('雨天1单元门口积水严重，希望先改管网。')
  expect(find(page, '.submit').dom.textContent).toContain('提交（替换本户之前的答卷）')
})

test('a survey that closed while the page was open: the backend\'s refusal is shown and the form goes', async () => {
  serve('needs_unanswered')
  wxFake.route('POST', NEEDS + '/responses', fx.reply('needs_late'))
  const page = await open('pages/survey/index', OPTIONS)
  await answerAll(page)
  await tap(page, '.submit')
  expect(find(page, '.refusal').dom.textContent).toContain('⚠ 问卷已结束，不能再提交或修改答案')
  expect(find(page, '.submit')).toBeFalsy()
})

test('closed: the results, participation, each option\'s share, the rating mean and the comments', async () => {
  serve('needs_closed_read')
  wxFake.route('GET', NEEDS + '/results', fx.reply('needs_results_resident'))
  const page = await open('pages/survey/index', OPTIONS)
  expect(wxFake.calls.map((c) => c.path)).toEqual([NEEDS + '?flat_id=' + ids.flat0, NEEDS + '/results?flat_id=' + ids.flat0])
  const shown = text(page)
  expect(find(page, '.submit')).toBeFalsy()
  expect(find(page, '.participation').dom.textContent).toContain('参与 10 / 12 户（83.3%）')
  expect(shown).toContain('雨污管网：5 户（50.0%）')
  expect(shown).toContain('屋面防水：4 户（40.0%）')
  expect(shown).toContain('平均 2.60 分 · 满意率（4-5 分）20.0%')
  expect(shown).toContain('1 分（很不满意）：2 户')
  expect(page.querySelectorAll('.comment').map((n) => n.dom.textContent.trim())).toEqual([
    '“雨天1单元门口积水严重，希望先改管网。”', '“外墙的事可以加微信详细说”', '“希望施工期间保留一条出入通道。”',
  ])
  expect(find(page, '.overall')).toBeFalsy()
})

test('a closed satisfaction survey: the overall satisfaction rate and mean', async () => {
  const closed = fx.data('surveys_for_flat_done').find((s) => s.id === ids.satisfaction_survey)
  wxFake.route('GET', '/surveys/' + ids.satisfaction_survey, fx.answer(closed))
  wxFake.route('GET', '/surveys/' + ids.satisfaction_survey + '/results', fx.reply('satisfaction_results_resident'))
  const page = await open('pages/survey/index', { id: String(ids.satisfaction_survey), flat_id: String(ids.flat0) })
  expect(find(page, '.overall-rate').dom.textContent).toContain('总体满意率 77.8%（全部评分中 4 分、5 分的占比）')
  expect(text(page)).toContain('全部评分平均 4.04 分（满分 5 分）')
  expect(text(page)).toContain('第 1 题 工程质量（评分（1-5））')
  expect(text(page)).toContain('平均 4.11 分 · 满意率（4-5 分）77.8%')
  expect(text(page)).toContain('参与 9 / 12 户（75.0%）')
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', NEEDS, () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该问卷', details: {} } } }))
  const page = await open('pages/survey/index', OPTIONS)
  expect(text(page)).toContain('⚠ 没有找到该问卷')
  serve('needs_unanswered')
  await tap(page, '.retry')
  expect(find(page, '.submit')).toBeTruthy()
})

test('in large type every text of the page reads at least 18px', async () => {
  serve('needs_answered_read')
  const page = await open('pages/survey/index', OPTIONS)
  expect(await expectLargeType(page)).toBeGreaterThan(20)
  serve('needs_closed_read')
  wxFake.route('GET', NEEDS + '/results', fx.reply('needs_results_resident'))
  const closed = await open('pages/survey/index', OPTIONS)
  expect(await expectLargeType(closed)).toBeGreaterThan(20)
})
