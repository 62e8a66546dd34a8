// Staff home: my roles and their scopes, the consultations in my scope, each with its tally,
// its door-visit list and its paper ballots, and the binding approvals for those who review them.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const { beijingTime, REVIEWERS, PAPER_STAFF } = require('../../utils/format')

function statusLine(c) {
  if (c.status === 'draft') return '⋯ ' + c.status_name + '，尚未开始'
  if (c.accepting) return '⋯ ' + c.status_name + '，正在接受表决'
  return '✓ ' + c.status_name
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    roles: [], // [{key, text}]
    canReview: false,
    items: [], // [{id, title, compound, statusLine, closesAt, started, paper}]
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
          this.setData({ roles, canReview: false, items: [], state: 'empty', message: '您没有工作人员权限。如需开通，请联系社区工作人员。' })
          return
        }
        const paper = names.some((n) => PAPER_STAFF.includes(n))
        const list = await consultations.list()
        const items = list.map((c) => ({
          id: c.id,
          title: c.title,
          compound: c.compound ? c.compound.name : '',
          statusLine: statusLine(c),
          closesAt: beijingTime(c.closes_at),
          started: c.status !== 'draft',
          paper,
        }))
        this.setData({
          roles,
          canReview: names.some((n) => REVIEWERS.includes(n)),
          items,
          state: items.length ? 'ready' : 'empty',
          message: '您的范围内还没有征询。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    go(event) {
      const { page, id, title } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/staff/${page}/index?id=${id}&title=${encodeURIComponent(title || '')}` })
    },
    openNotice() {
      wx.navigateTo({ url: '/pages/staff/notice/index' })
    },
    openBindings() {
      wx.navigateTo({ url: '/pages/staff/bindings/index' })
    },
  },
})
