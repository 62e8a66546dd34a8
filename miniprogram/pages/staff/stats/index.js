// Evaluation figures (效果评价) for staff: a community, street, district or compound: coverage
// (compounds with an active project), participation in consultations (by flats, persons and area),
// contribution plans and surveys, satisfaction (mean and the share of 4 and 5), projects per phase;
// its children's rows to drill down (street → communities → compounds → the compound's own
// consultations, plans and surveys); the same table as a workbook.
const largeType = require('../../../behaviors/large-type')
const stats = require('../../../services/stats')
const { openDocument } = require('../../../utils/document')
const { beijingTime, decoded, percent } = require('../../../utils/format')

const NODE = /^(compound|community|street|district):[1-9][0-9]*$/

function part(p, unit) {
  return `${p.answered} / ${p.base} ${unit}（${percent(p.percent)}）`
}

function satisfactionLines(s) {
  if (!s.count) return { line: '还没有满意度评分', rows: [] }
  return {
    line: `平均 ${s.mean} 分，满意率 ${percent(s.rate_percent)}（评分 ${s.count} 个，其中 4-5 分 ${s.satisfied} 个）`,
    rows: [5, 4, 3, 2, 1].map((n) => ({ n, text: `${n} 分：${s.distribution[n - 1]} 个` })),
  }
}

function figuresView(f) {
  const c = f.coverage
  const p = f.participation
  return {
    coverage: `有在建项目的小区 ${c.active} / ${c.compounds} 个（${percent(c.percent)}）`,
    withProject: `有改造项目的小区 ${c.with_project} / ${c.compounds} 个（${percent(c.with_project_percent)}）`,
    consultations: p.consultations.count
      ? [`征询 ${p.consultations.count} 项：参与 ${part(p.consultations.flats, '户')}`,
        `按业主人数 ${part(p.consultations.persons, '人')}`,
        `按专有面积 ${p.consultations.area.answered} / ${p.consultations.area.base} m²（${percent(p.consultations.area.percent)}）`]
      : ['还没有已开始的征询'],
    plans: p.plans.count ? `出资方案 ${p.plans.count} 项：承诺 ${part(p.plans.flats, '户')}` : '还没有已开始的出资方案',
    surveys: p.surveys.count ? `问卷 ${p.surveys.count} 份：作答 ${part(p.surveys.flats, '户')}` : '还没有已开始的问卷',
    overall: `综合参与率 ${percent(p.overall.percent)}（已参与 ${p.overall.answered} / 应参与 ${p.overall.base} 户次）`,
    satisfaction: satisfactionLines(f.satisfaction),
    satisfactionSurveys: `满意度评价 ${f.satisfaction.surveys} 份`,
    projects: `改造项目 ${f.projects.total} 个，其中在建 ${f.projects.active} 个`,
    phases: f.projects.phases.map((ph) => ({ key: ph.phase, text: `${ph.name}：${ph.count} 个` })),
  }
}

function childView(child) {
  const f = child.figures
  return {
    key: child.type + ':' + child.id,
    name: child.name,
    line: `覆盖率 ${percent(f.coverage.percent)} · 参与率 ${percent(f.participation.overall.percent)} · 满意率 ${percent(f.satisfaction.rate_percent)}`,
    detail: `小区 ${f.coverage.compounds} 个，在建项目 ${f.projects.active} 个`,
  }
}

function itemView(item) {
  const lines = [`参与 ${part(item.flats, '户')}`]
  if (item.persons) lines.push(`按业主人数 ${part(item.persons, '人')}`)
  if (item.area) lines.push(`按专有面积 ${item.area.answered} / ${item.area.base} m²（${percent(item.area.percent)}）`)
  if (item.satisfaction) lines.push('满意度：' + satisfactionLines(item.satisfaction).line)
  return {
    key: item.type + ':' + item.id,
    title: `${item.type_name}${item.kind_name ? '·' + item.kind_name : ''}：${item.title}（${item.status_name}）`,
    lines: lines.map((text, n) => ({ key: n, text })),
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    node: null,
    f: null,
    children: [],
    childLabel: '',
    items: [],
    generatedAt: '',
    docError: '',
  },
  methods: {
    onLoad(options) {
      this.node = decoded((options || {}).node)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (!NODE.test(this.node || '')) {
        this.setData({ state: 'empty', message: '请从“工作人员入口”选择要查看的社区、街道或小区' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const r = await stats.get(this.node)
        wx.setNavigationBarTitle({ title: '效果评价 · ' + r.node.name })
        this.setData({
          state: 'ready',
          node: {
            name: r.node.name, typeName: r.node.type_name,
            path: r.node.parents.map((p) => p.name).concat([r.node.name]).join(' / '),
          },
          f: figuresView(r.figures),
          children: r.children.map(childView),
          childLabel: { community: '各小区', street: '各社区', district: '各街道' }[r.node.type] || '',
          items: r.items.map(itemView),
          generatedAt: '统计时间：' + beijingTime(r.generated_at),
          docError: '',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    drill(event) {
      wx.navigateTo({ url: '/pages/staff/stats/index?node=' + encodeURIComponent(event.currentTarget.dataset.node) })
    },
    async openWorkbook() {
      this.setData({ docError: '' })
      try {
        await openDocument(stats.workbook(this.node), 'xlsx')
      } catch (error) {
        this.setData({ docError: '⚠ ' + error.message })
      }
    },
  },
})
