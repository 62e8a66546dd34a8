// Staff: the projects of my scope with their phase and what the next waits for, the surveys of my
// scope with their participation; each opens its page.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx

test('projects with their phase and what the next one waits for; surveys with their state', async () => {
  wxFake.route('GET', '/projects', fx.reply('projects_staff'))
  wxFake.route('GET', '/surveys', fx.reply('surveys_staff'))
  const page = await open('pages/staff/projects/index')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/projects', '/surveys'])
  const shown = text(page)
  expect(shown).toContain('幸福里小区管网改造')
  expect(shown).toContain('幸福里小区 · 当前阶段：方案征询')
  expect(shown).toContain('⋯ 目前：尚未关联方案征询')
  expect(shown).toContain('2栋屋面防水')
  expect(shown).toContain('✓ 条件已满足（未关联需求调查），等待工作人员推进')
  expect(shown).toContain('阳光里小区 · 当前阶段：已完成')
  expect(shown).toContain('✓ 项目已完成')
  expect(shown).toContain('阳光里小区改造满意度评价')
  expect(shown).toContain('⋯ 满意度评价 · 进行中 · 阳光里小区')
  expect(shown).toContain('已答 9 / 12 户 · 截止时间：2026-05-11 10:01')
  expect(shown).toContain('✓ 需求调查 · 已结束 · 阳光里小区')
  page.querySelectorAll('.project')[2].dispatchEvent('tap')
  await tap(page, '.survey')
  expect(wxFake.navigations).toEqual([`/pages/staff/project/index?id=${ids.project}`, `/pages/staff/survey/index?id=${ids.satisfaction_survey}`])
})

test('surveys that cannot be read leave the projects, and say so', async () => {
  wxFake.route('GET', '/projects', fx.reply('projects_staff'))
  wxFake.route('GET', '/surveys', () => 'fail')
  const page = await open('pages/staff/projects/index')
  expect(find(page, '.surveys-error').dom.textContent).toContain('⚠ 问卷暂时无法加载：网络不给力')
  expect(page.querySelectorAll('.project')).toHaveLength(3)
})

test('nothing in scope says so', async () => {
  wxFake.route('GET', '/projects', fx.answer([]))
  wxFake.route('GET', '/surveys', fx.answer([]))
  const page = await open('pages/staff/projects/index')
  expect(text(page)).toContain('您的范围内还没有改造项目和问卷。')
})

test('a refusal shows the backend\'s message and a retry', async () => {
  wxFake.route('GET', '/projects', fx.reply('projects_no_flat'))
  wxFake.route('GET', '/surveys', fx.answer([]))
  const page = await open('pages/staff/projects/index')
  expect(text(page)).toContain('⚠ 请带上 flat_id 查看您小区的改造项目')
  wxFake.route('GET', '/projects', fx.reply('projects_staff'))
  await tap(page, '.retry')
  expect(page.querySelectorAll('.project')).toHaveLength(3)
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', '/projects', fx.reply('projects_staff'))
  wxFake.route('GET', '/surveys', fx.reply('surveys_staff'))
  const page = await open('pages/staff/projects/index')
  expect(await expectLargeType(page)).toBeGreaterThan(15)
})
