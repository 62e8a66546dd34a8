// A renovation project's whole story for a resident: content and budget, the seven phases as a
// timeline with dates, who and why, what the next phase waits for, the consultation's result, the
// funds (the flat's plan one tap away), site reports, acceptance, surveys.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const PATH = '/projects/' + ids.project

function serve(name, plans = []) {
  wxFake.route('GET', PATH, fx.reply(name))
  wxFake.route('GET', '/plans', fx.answer(plans))
}

function steps(page) {
  return page.querySelectorAll('.step-title').map((n) => n.dom.textContent.trim())
}

test('in its first phase: content by level, budget, the timeline and what the next phase waits for', async () => {
  serve('project_survey')
  const page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(wxFake.calls.map((c) => c.path)).toEqual([PATH]) // no plan linked: nothing else to ask
  const shown = text(page)
  expect(shown).toContain('阳光里小区综合改造')
  expect(shown).toContain('阳光里小区 · 当前阶段：需求调查')
  expect(page.querySelectorAll('.item').map((n) => n.dom.textContent.trim())).toEqual([
    '雨污分流基础类', '外墙保温基础类', '加装电梯完善类', '智慧安防提升类',
  ])
  expect(shown).toContain('预算 ¥3,865,000.00')
  expect(steps(page)).toEqual([
    '● 需求调查（当前阶段）', '○ 方案征询', '○ 资金筹集', '○ 施工', '○ 竣工验收', '○ 效果评价', '○ 已完成',
  ])
  expect(find(page, '.step-when').dom.textContent).toContain('2026年3月2日 · 项目创建')
  expect(find(page, '.next-title').dom.textContent).toContain('下一阶段：方案征询')
  expect(shown).toContain('进入条件：需求调查已结束（如有）')
  expect(find(page, '.next-waiting').dom.textContent).toContain('⋯ 目前：需求调查「阳光里小区改造需求调查」尚未结束')
  expect(find(page, '.consultation')).toBeFalsy()
  expect(find(page, '.funds')).toBeFalsy()
  expect(find(page, '.reports')).toBeFalsy() // before works nothing to report
  expect(shown).toContain('参与 0 / 12 户（0.0%）')
  await tap(page, '.open-survey')
  expect(wxFake.navigations).toEqual([`/pages/survey/index?id=${ids.needs_survey}&flat_id=${ids.flat0}`])
})

test('the whole story once done: phases moved by staff and by the system, results, funds, reports, acceptance, satisfaction', async () => {
  serve('project_done') // the flat's plans (GET /plans?flat_id=) do not hold this one
  const page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  const shown = text(page)
  expect(steps(page)).toEqual([
    '✓ 需求调查', '✓ 方案征询', '✓ 资金筹集', '✓ 施工', '✓ 竣工验收', '✓ 效果评价', '● 已完成（当前阶段）',
  ])
  const when = page.querySelectorAll('.step-when').map((n) => n.dom.textContent.trim())
  expect(when).toEqual([
    '2026年3月2日 · 项目创建', '2026年3月16日 · 工作人员推进', '2026年3月23日 · 系统按条件推进', '2026年4月2日 · 系统按条件推进',
    '2026年4月20日 · 工作人员推进', '2026年5月1日 · 工作人员推进', '2026年5月11日 · 工作人员推进',
  ])
  expect(shown).toContain('原因：方案征询「阳光里小区综合改造方案征询」已通过（系统按计票结果推进）')
  expect(shown).toContain('原因：主体工程已于 4 月 18 日完工')
  expect(find(page, '.next-title').dom.textContent).toContain('✓ 项目已完成全部阶段')
  expect(find(page, '.consultation-result').dom.textContent).toContain('✓ 方案征询已通过')
  expect(shown).toContain('参与 11 人、880.00 m²，参与人数和面积已达到法定要求')
  expect(shown).toContain('外墙保温出资方案（已截止·资金已落实）')
  expect(find(page, '.funds-pledged').dom.textContent).toContain('已承诺 ¥12,000.00 / 目标 ¥12,000.00')
  expect(shown).toContain('已缴 ¥1,000.00 · 承诺 12 / 12 户')
  expect(find(page, '.reports-line').dom.textContent).toContain('共 4 条：待答复 2，已答复 2，已解决 0，重新打开 0')
  expect(find(page, '.acceptance-verdict').dom.textContent).toContain('✓ 验收已通过')
  expect(shown).toContain('居民代表 3 位，已签署 3 位，签署通过 2 位')
  expect(find(page, '.defects').dom.textContent).toContain('⚠ 还有 1 项缺陷待整改')
  expect(find(page, '.satisfaction').dom.textContent).toContain('满意率 77.8%，平均分 4.04（满分 5 分）')
  expect(shown).toContain('参与 9 / 12 户（75.0%）')
  expect(find(page, '.open-plan')).toBeFalsy() // the flat's plans do not hold this one
  await tap(page, '.open-consultation')
  await tap(page, '.open-reports')
  await tap(page, '.open-acceptance')
  expect(wxFake.navigations).toEqual([
    `/pages/results/index?id=${ids.consultation}&flat_id=${ids.flat0}`,
    `/pages/reports/index?project_id=${ids.project}&flat_id=${ids.flat0}`,
    `/pages/acceptance/index?project_id=${ids.project}`,
  ])
})

test('while the plan is voted on, the next phase waits for the consultation, which opens for a vote', async () => {
  serve('project_plan')
  const page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(find(page, '.next-waiting').dom.textContent).toContain('⋯ 目前：方案征询「阳光里小区综合改造方案征询」尚未截止计票')
  expect(text(page)).toContain('阳光里小区综合改造方案征询（征询中）')
  expect(text(page)).toContain('⋯ 正在征询，截止后计票')
  await tap(page, '.open-consultation')
  expect(wxFake.navigations).toEqual([`/pages/consultation/index?id=${ids.consultation}&flat_id=${ids.flat0}`])
})

test('during funding the flat that is in the plan opens it; during works site reports can be filed', async () => {
  serve('project_funding')
  wxFake.route('GET', '/plans', fx.reply('plans_for_flat'))
  let page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(wxFake.calls.map((c) => c.path)).toEqual([PATH, '/plans?flat_id=' + ids.flat0])
  await tap(page, '.open-plan')
  expect(wxFake.navigations).toEqual([`/pages/plan/index?id=${ids.plan}&flat_id=${ids.flat0}`])
  expect(find(page, '.next-waiting').dom.textContent).toContain('⋯ 目前：出资方案「外墙保温出资方案」尚未达成')
  serve('project_works')
  page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(find(page, '.reports-line').dom.textContent).toContain('还没有人反映现场问题')
  expect(find(page, '.open-reports').dom.textContent).toContain('查看或反映现场问题')
  expect(find(page, '.acceptance')).toBeFalsy()
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', PATH, () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该改造项目', details: {} } } }))
  const page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(text(page)).toContain('⚠ 没有找到该改造项目')
  serve('project_survey')
  await tap(page, '.retry')
  expect(text(page)).toContain('下一阶段：方案征询')
})

test('in large type every text of the page reads at least 18px', async () => {
  serve('project_done')
  const page = await open('pages/project/index', { id: String(ids.project), flat_id: String(ids.flat0) })
  expect(await expectLargeType(page)).toBeGreaterThan(30)
})
