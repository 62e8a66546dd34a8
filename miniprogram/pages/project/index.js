// One renovation project (改造项目) for the residents of its compound: what is renovated and at what
// budget, the seven phases as a timeline (when, who, why; 系统按条件推进 when a vote or a plan moved
// it), what the next phase waits for, the consultation's result once published, the funds pledged
// and paid (the flat's plan one tap away when the flat has it), the site reports, the acceptance
// and the surveys. Opened from the home page with the flat it was listed under.
const largeType = require('../../behaviors/large-type')
const projects = require('../../services/projects')
const plans = require('../../services/plans')
const { story } = require('../../utils/project')

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    p: null,
    planOfFlat: false, // the flat is in the project's contribution plan: its page opens
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.flatId = Number((options || {}).flat_id) || null
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (!(this.id > 0)) {
        this.setData({ state: 'empty', message: '没有找到要查看的改造项目，请从首页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const project = await projects.get(this.id)
        const p = story(project)
        let planOfFlat = false
        if (p.funds && this.flatId) {
          // The plan may cover some buildings only: the link shows when the flat is in it.
          const mine = await plans.forFlat(this.flatId).catch(() => [])
          planOfFlat = mine.some((plan) => plan.id === p.funds.planId)
        }
        wx.setNavigationBarTitle({ title: project.title })
        this.setData({ state: 'ready', p, planOfFlat })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    go(url) {
      wx.navigateTo({ url })
    },
    openPlan() {
      this.go(`/pages/plan/index?id=${this.data.p.funds.planId}&flat_id=${this.flatId}`)
    },
    openConsultation() {
      const c = this.data.p.consultation
      const page = c.status === 'published' ? 'results' : 'consultation'
      this.go(`/pages/${page}/index?id=${c.id}&flat_id=${this.flatId}`)
    },
    openSurvey(event) {
      this.go(`/pages/survey/index?id=${event.currentTarget.dataset.id}&flat_id=${this.flatId}`)
    },
    openReports() {
      this.go(`/pages/reports/index?project_id=${this.id}${this.flatId ? '&flat_id=' + this.flatId : ''}`)
    },
    openAcceptance() {
      this.go(`/pages/acceptance/index?project_id=${this.id}`)
    },
  },
})
