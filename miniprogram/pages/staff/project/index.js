// One renovation project for staff: the whole story as residents read it; moving it to its next
// phase with a reason (phases only go forward; when the condition does not hold, the backend's
// 409 says why, in words); the acceptance with the defects to record resolved; and the pages that
// belong to it: the consultation's tally, the contribution plan, the site reports, the surveys'
// results and held texts, and the compound's evaluation figures.
const largeType = require('../../../behaviors/large-type')
const projects = require('../../../services/projects')
const works = require('../../../services/works')
const { story } = require('../../../utils/project')
const { beijingText } = require('../../../utils/format')

const REASON_MAX = 200

// The pages that belong to the project, each a button: [{key, text, detail, url}].
function linksOf(p) {
  const title = (t) => encodeURIComponent(t || '')
  const links = []
  const c = p.consultation
  if (c && c.status !== 'draft') {
    links.push({ key: 'tally', text: '方案征询计票', detail: `${c.title}（${c.statusName}）${c.result ? ' ' + c.result : ''}`,
      url: `/pages/staff/tally/index?id=${c.id}&title=${title(c.title)}` })
  }
  if (p.funds) {
    links.push({ key: 'plan', text: '出资统计与管理', detail: `${p.funds.title}（${p.funds.statusName}）· ${p.funds.pledged} · ${p.funds.paid}`,
      url: `/pages/staff/plan/index?id=${p.funds.planId}&title=${title(p.funds.title)}` })
  }
  if (p.reports && p.reports.shown) {
    links.push({ key: 'reports', text: '答复和审核现场问题', detail: '现场问题：' + p.reports.line, url: `/pages/staff/reports/index?project_id=${p.id}` })
  }
  for (const s of p.surveys) {
    links.push({ key: 'survey-' + s.id, text: `${s.label}结果与待审核意见`,
      detail: `${s.title}（${s.statusName}）· ${s.answered}${s.satisfaction ? ' · ' + s.satisfaction : ''}`,
      url: `/pages/staff/survey/index?id=${s.id}` })
  }
  links.push({ key: 'stats', text: '本小区效果评价', detail: `${p.compound}的覆盖、参与和满意度`, url: `/pages/staff/stats/index?node=compound:${p.compoundId}` })
  return links
}

function acceptanceView(a) {
  return {
    verdict: (a.passed ? '✓ ' : '⋯ ') + a.status,
    rule: '通过规则：' + a.rule.text,
    signatures: a.signatures.map((s) => ({
      id: s.id,
      text: `${s.name}：${s.opinion_name}${s.remarks ? '，意见：' + s.remarks : ''}（${beijingText(s.signed_at)}）`,
    })),
    open: a.defects.open.map((d) => ({ id: d.id, text: d.text, note: '', error: '', busy: false })),
    resolved: a.defects.resolved.map((d) => ({ id: d.id, text: d.text, note: `已整改（${beijingText(d.resolved_at)}）：${d.note || ''}` })),
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    p: null,
    links: [],
    reason: '',
    reasonMax: REASON_MAX,
    busy: false,
    actionError: '',
    moved: '',
    acceptance: null,
    acceptanceError: '',
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const project = await projects.get(this.id)
        this.show(project)
        this.setData({ state: 'ready', reason: '', actionError: '', moved: '' })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    show(project) {
      const p = story(project)
      wx.setNavigationBarTitle({ title: project.title })
      this.setData({ p, links: linksOf(p) })
      if (p.acceptance && p.acceptance.shown) this.loadAcceptance()
      else this.setData({ acceptance: null })
    },
    async loadAcceptance() {
      try {
        this.setData({ acceptance: acceptanceView(await works.acceptance(this.id)), acceptanceError: '' })
      } catch (error) {
        this.setData({ acceptanceError: '⚠ 验收情况暂时无法加载：' + error.message })
      }
    },

    // ---- the next phase
    inputReason(event) {
      this.setData({ reason: event.detail.value, actionError: '' })
    },
    advance() {
      const next = this.data.p.next
      if (!next || this.data.busy) return Promise.resolve()
      return new Promise((resolve) => {
        wx.showModal({
          title: '请确认',
          content: `确定把项目推进到「${next.name}」阶段吗？项目阶段只能向前，推进后不能退回。`,
          confirmText: '推进', cancelText: '取消',
          success: (res) => resolve(res.confirm), fail: () => resolve(false),
        })
      }).then(async (go) => {
        if (!go) return
        this.setData({ busy: true, actionError: '', moved: '' })
        try {
          const project = await projects.advance(this.id, next.phase, this.data.reason.trim())
          this.show(project)
          this.setData({ busy: false, reason: '', moved: `✓ 项目已进入「${project.phase_name}」阶段` })
        } catch (error) {
          // 409 condition_unmet (the condition in words) or phase_order, 422 a reason needed, 403 not a manager
          this.setData({ busy: false, actionError: '⚠ ' + error.message })
        }
      })
    },

    // ---- defects listed by representatives, recorded resolved by staff
    patchDefect(id, fields) {
      const a = this.data.acceptance
      this.setData({ acceptance: { ...a, open: a.open.map((d) => (d.id === id ? { ...d, ...fields } : d)) } })
    },
    inputNote(event) {
      this.patchDefect(Number(event.currentTarget.dataset.id), { note: event.detail.value, error: '' })
    },
    async resolveDefect(event) {
      const id = Number(event.currentTarget.dataset.id)
      const defect = this.data.acceptance.open.find((d) => d.id === id)
      const note = defect.note.trim()
      if (!note) {
        this.patchDefect(id, { error: '⚠ 请说明整改情况，例如“已重做防水层，雨后复查无渗水”' })
        return
      }
      this.patchDefect(id, { busy: true, error: '' })
      try {
        await works.resolveDefect(id, note)
        await this.loadAcceptance()
      } catch (error) {
        this.patchDefect(id, { busy: false, error: '⚠ ' + error.message })
      }
    },

    // ---- the pages that belong to the project
    go(event) {
      const { url } = event.currentTarget.dataset
      wx.navigateTo({ url })
    },
  },
})
