// A project for staff: the story, moving it to its next phase with a reason (the backend's 409
// condition_unmet and 422 said in words), the acceptance's defects recorded resolved, and the pages
// that belong to the project.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const PATH = '/projects/' + ids.project
const OPTIONS = { id: String(ids.project) }

function phases() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === PATH + '/phase')
}

async function reason(page, words) {
  page.instance.inputReason({ detail: { value: words } })
  await settle()
}

test('moving on asks first, sends the next phase with the reason, and shows the project as it now is', async () => {
  wxFake.route('GET', PATH, fx.reply('project_survey'))
  wxFake.route('POST', PATH + '/phase', fx.reply('phase_plan'))
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(find(page, '.advance').dom.textContent).toContain('推进到「方案征询」')
  await reason(page, '需求调查已结束，进入方案征询')
  await tap(page, '.advance')
  expect(wxFake.toasts[0]).toContain('确定把项目推进到「方案征询」阶段吗？项目阶段只能向前，推进后不能退回。')
  expect(phases().map((c) => c.data)).toEqual([fx.request('phase_plan')])
  expect(find(page, '.moved').dom.textContent).toContain('✓ 项目已进入「方案征询」阶段')
  expect(text(page)).toContain('当前阶段：方案征询')
  expect(page.querySelectorAll('.step-title').map((n) => n.dom.textContent.trim()).slice(0, 2)).toEqual(['✓ 需求调查', '● 方案征询（当前阶段）'])
  expect(find(page, '.advance').dom.textContent).toContain('推进到「资金筹集」')
  expect(page.instance.data.reason).toBe('')
})

test('a condition that does not hold: the backend\'s condition_unmet message, the project unchanged', async () => {
  wxFake.route('GET', PATH, fx.reply('project_plan_staff'))
  wxFake.route('POST', PATH + '/phase', fx.reply('phase_funding_unmet'))
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(find(page, '.next-waiting').dom.textContent).toContain('⋯ 目前：方案征询「阳光里小区综合改造方案征询」尚未截止计票')
  expect(text(page)).toContain('条件满足时系统会自动推进')
  await reason(page, '方案已公示')
  await tap(page, '.advance')
  expect(phases().map((c) => c.data)).toEqual([fx.request('phase_funding_unmet')])
  expect(find(page, '.action-error').dom.textContent).toContain('⚠ 不能进入「资金筹集」：方案征询「阳光里小区综合改造方案征询」尚未截止计票')
  expect(find(page, '.moved')).toBeFalsy()
  expect(text(page)).toContain('当前阶段：方案征询')
})

test('cancelled, nothing is sent', async () => {
  wxFake.route('GET', PATH, fx.reply('project_plan_staff'))
  wx.showModal = (o) => o.success({ confirm: false, cancel: true })
  const page = await open('pages/staff/project/index', OPTIONS)
  await tap(page, '.advance')
  expect(phases()).toEqual([])
})

test('works complete needs a reason (422 in words); with one the acceptance opens and is shown', async () => {
  wxFake.route('GET', PATH, fx.reply('project_works'))
  wxFake.route('POST', PATH + '/phase', fx.reply('phase_acceptance_no_reason'))
  wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_open'))
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(text(page)).toContain('推进说明（必填：施工完成情况）')
  await tap(page, '.advance')
  expect(find(page, '.action-error').dom.textContent).toContain('⚠ 请说明施工完成情况')
  expect(find(page, '.acceptance')).toBeFalsy()
  wxFake.route('POST', PATH + '/phase', fx.reply('phase_acceptance'))
  await reason(page, '主体工程已于 4 月 18 日完工')
  await tap(page, '.advance')
  expect(phases().map((c) => c.data.reason)).toEqual(['', '主体工程已于 4 月 18 日完工'])
  expect(find(page, '.moved').dom.textContent).toContain('✓ 项目已进入「竣工验收」阶段')
  expect(find(page, '.action-error')).toBeFalsy()
  expect(find(page, '.acceptance .verdict').dom.textContent).toContain('还需 2 位居民代表签署通过')
})

test('the acceptance not passed: the next phase refused in words; a defect recorded resolved with its note', async () => {
  wxFake.route('GET', PATH, fx.reply('project_acceptance_staff'))
  wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_staff'))
  wxFake.route('POST', PATH + '/phase', fx.reply('phase_evaluation_unmet'))
  const page = await open('pages/staff/project/index', OPTIONS)
  await tap(page, '.advance')
  expect(find(page, '.action-error').dom.textContent).toContain('⚠ 不能进入「效果评价」：居民代表验收尚未通过')
  expect(page.querySelectorAll('.sig').map((n) => n.dom.textContent.trim())).toEqual([
    '宋**：通过（附意见），意见：绿化补种还需跟进（2026年4月20日 10:04）',
    '冯**：不通过，意见：整改后请再通知验收（2026年4月20日 10:06）',
  ])
  expect(page.querySelectorAll('.open-defect')).toHaveLength(2)
  await tap(page, '.resolve-defect')
  expect(find(page, '.defect-error').dom.textContent).toContain('⚠ 请说明整改情况')
  const defect = `/defects/${ids.defect1}/resolve`
  wxFake.route('POST', defect, () => {
    wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_staff_after'))
    return fx.reply('defect_resolved')()
  })
  page.instance.inputNote({ currentTarget: { dataset: { id: ids.defect1 } }, detail: { value: '已重做防水层，雨后复查无渗水' } })
  await settle()
  await tap(page, '.resolve-defect')
  expect(wxFake.calls.filter((c) => c.path === defect).map((c) => c.data)).toEqual([fx.request('defect_resolved')])
  expect(page.querySelectorAll('.open-defect')).toHaveLength(1)
  expect(find(page, '.resolved-defect').dom.textContent).toContain('✓ 2栋屋面有两处渗水')
  expect(find(page, '.resolved-defect').dom.textContent).toContain('：已重做防水层，雨后复查无渗水')
})

test('a defect resolved twice: the backend\'s refusal on the defect', async () => {
  wxFake.route('GET', PATH, fx.reply('project_acceptance_staff'))
  wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_staff'))
  wxFake.route('POST', `/defects/${ids.defect1}/resolve`, fx.reply('defect_resolve_again'))
  const page = await open('pages/staff/project/index', OPTIONS)
  page.instance.inputNote({ currentTarget: { dataset: { id: ids.defect1 } }, detail: { value: '再次' } })
  await settle()
  await tap(page, '.resolve-defect')
  expect(find(page, '.defect-error').dom.textContent).toContain('⚠ 该缺陷已确认整改')
})

test('done: no next phase; the consultation, plan, reports, surveys and figures open their pages', async () => {
  wxFake.route('GET', PATH, fx.reply('project_done_staff'))
  wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_passed'))
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(find(page, '.advance')).toBeFalsy()
  expect(find(page, '.next-title').dom.textContent).toContain('✓ 项目已完成全部阶段')
  const shown = text(page)
  expect(shown).toContain('阳光里小区综合改造方案征询（已公布） ✓ 方案征询已通过')
  expect(shown).toContain('外墙保温出资方案（已截止·资金已落实）· 已承诺 ¥12,000.00 / 目标 ¥12,000.00 · 已缴 ¥1,000.00')
  expect(shown).toContain('阳光里小区改造满意度评价（已结束）· 参与 9 / 12 户（75.0%） · 满意率 77.8%，平均分 4.04（满分 5 分）')
  for (const key of ['tally', 'plan', 'reports', 'survey-' + ids.needs_survey, 'survey-' + ids.satisfaction_survey, 'stats']) {
    await tap(page, '.link-' + key)
  }
  expect(wxFake.navigations).toEqual([
    `/pages/staff/tally/index?id=${ids.consultation}&title=${encodeURIComponent('阳光里小区综合改造方案征询')}`,
    `/pages/staff/plan/index?id=${ids.plan}&title=${encodeURIComponent('外墙保温出资方案')}`,
    `/pages/staff/reports/index?project_id=${ids.project}`,
    `/pages/staff/survey/index?id=${ids.needs_survey}`,
    `/pages/staff/survey/index?id=${ids.satisfaction_survey}`,
    `/pages/staff/stats/index?node=compound:${ids.compound}`,
  ])
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', PATH, () => 'fail')
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(text(page)).toContain('⚠ 网络不给力，请检查网络后重试')
  wxFake.route('GET', PATH, fx.reply('project_plan_staff'))
  await tap(page, '.retry')
  expect(find(page, '.advance')).toBeTruthy()
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', PATH, fx.reply('project_acceptance_staff'))
  wxFake.route('GET', PATH + '/acceptance', fx.reply('acceptance_staff'))
  const page = await open('pages/staff/project/index', OPTIONS)
  expect(await expectLargeType(page)).toBeGreaterThan(30)
})
