// Evaluation figures for staff: a street's coverage, participation (flats, persons, area), satisfaction
// and projects per phase; its communities to drill down into, down to a compound's consultations,
// plans and surveys; the workbook; a place outside the scope refused in words.
const { open, text, tap, find, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx

function serve() {
  wxFake.route('GET', '/stats', (req) => {
    const node = decodeURIComponent(req.path.split('node=')[1])
    const name = { [`street:${ids.street}`]: 'stats_street', [`community:${ids.community}`]: 'stats_community',
      [`compound:${ids.compound}`]: 'stats_compound' }[node]
    return fx.reply(name)()
  })
}

test('a street: coverage, participation, satisfaction, projects per phase, its communities', async () => {
  serve()
  const page = await open('pages/staff/stats/index', { node: `street:${ids.street}` })
  expect(wxFake.calls.map((c) => c.path)).toEqual([`/stats?node=street%3A${ids.street}`])
  const shown = text(page)
  expect(shown).toContain('街道：东风街道')
  expect(find(page, '.path').dom.textContent).toContain('芙蓉区 / 东风街道')
  expect(find(page, '.coverage-line').dom.textContent).toContain('有在建项目的小区 2 / 3 个（66.7%）')
  expect(shown).toContain('有改造项目的小区 2 / 3 个（66.7%）')
  expect(page.querySelectorAll('.consultations').map((n) => n.dom.textContent.trim())).toEqual([
    '征询 1 项：参与 11 / 12 户（91.7%）', '按业主人数 11 / 12 人（91.7%）', '按专有面积 880.00 / 960.00 m²（91.7%）',
  ])
  expect(shown).toContain('出资方案 1 项：承诺 12 / 12 户（100.0%）')
  expect(shown).toContain('问卷 2 份：作答 19 / 24 户（79.2%）')
  expect(shown).toContain('综合参与率 87.5%（已参与 42 / 应参与 48 户次）')
  expect(find(page, '.satisfaction-line').dom.textContent).toContain('平均 4.04 分，满意率 77.8%（评分 45 个，其中 4-5 分 35 个）')
  expect(shown).toContain('5 分：16 个')
  expect(shown).toContain('改造项目 3 个，其中在建 2 个')
  expect(page.querySelectorAll('.phase').map((n) => n.dom.textContent.trim())).toEqual([
    '需求调查：1 个', '方案征询：1 个', '资金筹集：0 个', '施工：0 个', '竣工验收：0 个', '效果评价：0 个', '已完成：1 个',
  ])
  expect(shown).toContain('各社区（点按查看）')
  expect(page.querySelectorAll('.child').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())).toEqual([
    '阳光社区覆盖率 100.0% · 参与率 87.5% · 满意率 77.8%小区 2 个，在建项目 2 个',
    '建设社区覆盖率 0.0% · 参与率 — · 满意率 —小区 1 个，在建项目 0 个',
  ])
})

test('drilling down: street → community → compound, whose own consultations, plans and surveys are listed', async () => {
  serve()
  const street = await open('pages/staff/stats/index', { node: `street:${ids.street}` })
  await tap(street, '.child')
  expect(wxFake.navigations).toEqual([`/pages/staff/stats/index?node=community%3A${ids.community}`])
  const community = await open('pages/staff/stats/index', { node: encodeURIComponent(`community:${ids.community}`) })
  expect(text(community)).toContain('社区：阳光社区')
  expect(text(community)).toContain('各小区（点按查看）')
  expect(community.querySelectorAll('.child .title').map((n) => n.dom.textContent.trim())).toEqual(['阳光里小区', '幸福里小区'])
  await tap(community, '.child')
  expect(wxFake.navigations[1]).toBe(`/pages/staff/stats/index?node=compound%3A${ids.compound}`)
  const compound = await open('pages/staff/stats/index', { node: `compound:${ids.compound}` })
  expect(find(compound, '.children')).toBeFalsy()
  expect(compound.querySelectorAll('.item-title').map((n) => n.dom.textContent.trim())).toEqual([
    '征询·改造方案：阳光里小区综合改造方案征询（已公布）', '出资方案：外墙保温出资方案（已截止·资金已落实）',
    '问卷·需求调查：阳光里小区改造需求调查（已结束）', '问卷·满意度评价：阳光里小区改造满意度评价（已结束）',
  ])
  const shown = text(compound)
  expect(shown).toContain('按专有面积 880.00 / 960.00 m²（91.7%）')
  expect(shown).toContain('参与 9 / 12 户（75.0%）')
  expect(shown).toContain('满意度：平均 4.04 分，满意率 77.8%（评分 45 个，其中 4-5 分 35 个）')
})

test('the same table as a workbook', async () => {
  serve()
  wxFake.route('GET', /^\/stats\.xlsx\?node=/, () => ({ status: 200, file: '/tmp/stats.xlsx' }))
  const page = await open('pages/staff/stats/index', { node: `street:${ids.street}` })
  await tap(page, '.workbook')
  expect(wxFake.calls.filter((c) => c.download).map((c) => c.path)).toEqual([`/stats.xlsx?node=street%3A${ids.street}`])
  expect(wxFake.documents).toEqual([{ filePath: '/tmp/stats.xlsx', fileType: 'xlsx' }])
})

test('a place outside my scope: the backend\'s words and a retry; no place given: where to start', async () => {
  wxFake.route('GET', '/stats', fx.reply('stats_outside'))
  let page = await open('pages/staff/stats/index', { node: `community:${ids.community}` })
  expect(text(page)).toContain('⚠ 没有找到该统计范围，或它不在您的管辖范围内')
  expect(find(page, '.retry')).toBeTruthy()
  page = await open('pages/staff/stats/index', {})
  expect(text(page)).toContain('请从“工作人员入口”选择要查看的社区、街道或小区')
})

test('in large type every text of the page reads at least 18px', async () => {
  serve()
  const page = await open('pages/staff/stats/index', { node: `street:${ids.street}` })
  expect(await expectLargeType(page)).toBeGreaterThan(30)
  const compound = await open('pages/staff/stats/index', { node: `compound:${ids.compound}` })
  expect(await expectLargeType(compound)).toBeGreaterThan(30)
})
