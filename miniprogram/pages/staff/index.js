// Staff home: my roles and their scopes, the consultations in my scope, each with its tally,
// its door-visit list and its paper ballots; the contribution plans (出资方案) in my scope, each with
// its tally and management, its paper pledges and its payments; the renovation projects and surveys
// of my scope; the evaluation figures (效果评价) of each place I watch; and the binding approvals for
// those who review them. Representatives and supervisors are told where their part is.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const plans = require('../../services/plans')
const {
  beijingTime, money, REVIEWERS, PAPER_STAFF, WATCHERS, PLAN_WATCHERS, CASHIERS, STATS_VIEWERS, STATS_NODES,
} = require('../../utils/format')

// Each place whose figures a role of mine may read: [{key, node, text}].
function statsNodes(roles) {
  const seen = new Set()
  return roles
    .filter((r) => STATS_VIEWERS.includes(r.role) && r.scope && STATS_NODES.includes(r.scope.type))
    .map((r) => ({ key: r.scope.type + ':' + r.scope.id, text: '效果评价统计 · ' + (r.scope.name || '') }))
    .filter((n) => !seen.has(n.key) && seen.add(n.key))
}

function statusLine(c) {
  if (c.status === 'draft') return '⋯ ' + c.status_name + '，尚未开始'
  if (c.accepting) return '⋯ ' + c.status_name + '，正在接受表决'
  return '✓ ' + c.status_name
}

function planStatusLine(p) {
  if (p.status === 'draft') return '⋯ 草稿，尚未开始认筹'
  if (p.accepting) return '⋯ ' + p.status_name + '，正在接受出资承诺'
  return (p.status === 'funded' ? '✓ ' : p.status === 'not_funded' ? '✗ ' : '') + p.status_name
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    roles: [], // [{key, text}]
    canReview: false,
    items: [], // [{id, title, compound, statusLine, closesAt, started, paper}]
    plansShown: false,
    plans: [], // [{id, title, scope, statusLine, closesAt, target, started, paper, cashier}]
    projectsShown: false,
    stats: [], // [{key, text}]: node "community:3" and its words
    residentRoles: '', // what a representative or supervisor does, and where
  },
  methods: {
    onLoad() {
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const me = await auth.me()
        const names = me.roles.map((r) => r.role)
        const roles = me.roles.map((r, i) => ({
          key: i,
          text: r.role_name + (r.scope && r.scope.name ? ' · ' + r.scope.name : ''),
        }))
        if (!roles.length) {
          this.setData({ roles, canReview: false, items: [], plansShown: false, plans: [], state: 'empty', message: '您没有工作人员权限。如需开通，请联系社区工作人员。' })
          return
        }
        const residentRoles = [
          names.includes('representative') ? '居民代表：项目进入竣工验收后，在首页的改造项目中签署验收。' : '',
          names.includes('supervisor') ? '居民监督员：施工期间，在首页的改造项目中反映现场问题，确认或重新打开已答复的问题。' : '',
        ].filter(Boolean).join('\n')
        this.setData({ projectsShown: names.some((n) => WATCHERS.includes(n)), stats: statsNodes(me.roles), residentRoles })
        const paper = names.some((n) => PAPER_STAFF.includes(n))
        const watches = names.some((n) => WATCHERS.includes(n)) // a treasurer alone sees plans only
        const [list, planList] = await Promise.all([
          watches ? consultations.list() : Promise.resolve([]),
          names.some((n) => PLAN_WATCHERS.includes(n)) ? plans.list() : Promise.resolve(null),
        ])
        const items = list.map((c) => ({
          id: c.id,
          title: c.title,
          compound: c.compound ? c.compound.name : '',
          statusLine: statusLine(c),
          closesAt: beijingTime(c.closes_at),
          started: c.status !== 'draft',
          paper,
        }))
        const cashier = names.some((n) => CASHIERS.includes(n))
        this.setData({
          roles,
          canReview: names.some((n) => REVIEWERS.includes(n)),
          items,
          state: items.length ? 'ready' : 'empty',
          message: watches ? '您的范围内还没有征询。' : '征询表决不在您的职责范围内。',
          plansShown: planList !== null,
          plans: (planList || []).map((p) => ({
            id: p.id,
            title: p.title,
            scope: p.scope.name || p.compound.name,
            statusLine: planStatusLine(p),
            closesAt: beijingTime(p.closes_at),
            target: money(p.items.reduce((sum, i) => sum + i.share_fen, 0)),
            started: p.status !== 'draft',
            paper: paper && p.status !== 'draft',
            cashier,
          })),
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    go(event) {
      const { page, id, title } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/staff/${page}/index?id=${id}&title=${encodeURIComponent(title || '')}` })
    },
    openProjects() {
      wx.navigateTo({ url: '/pages/staff/projects/index' })
    },
    openStats(event) {
      wx.navigateTo({ url: '/pages/staff/stats/index?node=' + encodeURIComponent(event.currentTarget.dataset.node) })
    },
    openNotice() {
      wx.navigateTo({ url: '/pages/staff/notice/index' })
    },
    openBindings() {
      wx.navigateTo({ url: '/pages/staff/bindings/index' })
    },
    openConsoleLogin() {
      wx.navigateTo({ url: '/pages/staff/console-login/index' })
    },
  },
})
