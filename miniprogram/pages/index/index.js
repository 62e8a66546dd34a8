// Home: my flats, what waits for me (open consultations not yet answered), each flat's contribution
// plans (出资方案) with what it owes and whether it pledged, its compound's renovation projects (改造项目)
// with their phase and the flat's open surveys (问卷), the large-type switch, scanning a building's
// code, checking a receipt, my pledges, my 编号 and written proxies (委托代签), and the staff pages for staff.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const notices = require('../../services/notices')
const plans = require('../../services/plans')
const projects = require('../../services/projects')
const surveys = require('../../services/surveys')
const { beijingText, money } = require('../../utils/format')

// One plan of a flat in a line: open ones first say what to do.
function planLine(p) {
  const flat = p.flat
  const owes = flat ? `本户应缴 ${money(flat.due_fen)}，${flat.state_name}` : ''
  if (p.accepting) {
    const mark = flat && flat.pledged ? '✓' : '⋯'
    return { id: p.id, open: true, text: `${mark} 出资认筹：${p.title}（${beijingText(p.closes_at)} 截止）`, detail: owes }
  }
  return { id: p.id, open: false, text: `出资方案：${p.title}（${p.status_name}）`, detail: owes }
}

// One renovation project of the flat's compound in a line: its phase now.
function projectLine(p) {
  return { id: p.id, text: `改造项目：${p.title}`, detail: `当前阶段：${p.phase_name}` }
}

// A survey open for the flat: whether the flat has answered (the last answer counts until the deadline).
function surveyLine(s) {
  const answered = s.flat && s.flat.answered
  return {
    id: s.id,
    answered,
    text: `${answered ? '✓ 已填写' : '⋯ 待填写'}${s.kind_name}：${s.title}（${beijingText(s.closes_at)} 截止）`,
    detail: answered ? '截止前可以修改，以最后一次为准' : '',
  }
}

// A second thing on this page: if it cannot be read, the rest still shows and says so.
function secondary(promise, item, what) {
  return promise.catch((error) => {
    item.moreErrors.push({ key: what, text: `${what}暂时无法加载：${error.message}` })
    return []
  })
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    user: null,
    flats: [], // [{binding, label, status, statusName, reason, waiting: [{id, title, closesAt}], published, plans}]
    isStaff: false,
    unread: 0,
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
        const [me, box] = await Promise.all([auth.me(), notices.inbox()])
        const flats = await Promise.all(me.bindings.map(async (b) => {
          const item = {
            bindingId: b.id, flatId: b.flat.id, label: b.flat.label, relation: b.relation_name, owner: b.relation === 'owner',
            status: b.status, statusName: b.status_name, reason: b.reason || '', waiting: [], plans: [], plansError: '',
            projects: [], surveys: [], moreErrors: [],
          }
          if (b.status !== 'approved') return item
          // The plans are a second thing on this page: if they cannot be read, the consultations still show.
          const [list, planList, projectList, surveyList] = await Promise.all([
            consultations.forFlat(b.flat.id),
            plans.forFlat(b.flat.id).catch((error) => { item.plansError = '出资方案暂时无法加载：' + error.message; return [] }),
            secondary(projects.forFlat(b.flat.id), item, '改造项目'),
            secondary(surveys.forFlat(b.flat.id), item, '问卷'),
          ])
          item.waiting = list
            .filter((c) => c.accepting && !c.answered)
            .map((c) => ({ id: c.id, title: c.title, closesAt: beijingText(c.closes_at) }))
          item.published = list.filter((c) => c.status === 'published').map((c) => ({ id: c.id, title: c.title }))
          item.plans = planList.map(planLine)
          item.projects = projectList.map(projectLine)
          item.surveys = surveyList.filter((x) => x.accepting).map(surveyLine)
          return item
        }))
        this.setData({
          user: me.user,
          flats,
          unread: box.unread,
          isStaff: me.roles.length > 0,
          state: flats.length || me.roles.length ? 'ready' : 'empty',
          message: '您还没有绑定房屋。请扫描楼栋门口的二维码，或点击下方“扫码绑定房屋”。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    toggleLarge(event) {
      largeType.setLarge(event.detail.value)
      this.setData({ large: !!event.detail.value })
    },
    scan() {
      wx.scanCode({
        onlyFromCamera: false,
        success: (res) => {
          const match = (res.path || '').match(/scene=([^&]+)/)
          const scene = match ? decodeURIComponent(match[1]) : ''
          const url = scene ? '/pages/scan/index?scene=' + encodeURIComponent(scene)
            : '/pages/scan/index?q=' + encodeURIComponent(res.result || '')
          wx.navigateTo({ url })
        },
      })
    },
    openConsultation(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/consultation/index?id=${id}&flat_id=${flat}` })
    },
    openResults(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/results/index?id=${id}&flat_id=${flat}` })
    },
    openPlan(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/plan/index?id=${id}&flat_id=${flat}` })
    },
    openProject(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/project/index?id=${id}&flat_id=${flat}` })
    },
    openSurvey(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/survey/index?id=${id}&flat_id=${flat}` })
    },
    openProxies(event) {
      const flat = event.currentTarget.dataset.flat
      wx.navigateTo({ url: '/pages/proxies/index' + (flat ? '?flat_id=' + flat : '') })
    },
    openPledges() {
      wx.navigateTo({ url: '/pages/pledges/index' })
    },
    openInbox() {
      wx.navigateTo({ url: '/pages/inbox/index' })
    },
    checkReceipt() {
      wx.navigateTo({ url: '/pages/receipt/index' })
    },
    openStaff() {
      wx.navigateTo({ url: '/pages/staff/index' })
    },
  },
})
