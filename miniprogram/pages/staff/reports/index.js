// Staff and a project's site reports: every report (held ones too) with the reporter's masked name,
// the place, the photos and the history; what each allows now (from the backend's `actions`):
// answer an open or reopened report, make a held one public (release) or keep it from the compound
// with a reason its reporter reads (reject).
const largeType = require('../../../behaviors/large-type')
const works = require('../../../services/works')
const { beijingText } = require('../../../utils/format')

const STATUS_MARK = { open: '⋯', answered: '✓', resolved: '✓', reopened: '⚠' }
const FILTERS = [
  { key: 'all', name: '全部' },
  { key: 'todo', name: '待答复' },
  { key: 'held', name: '待审核' },
]

function reportView(r) {
  return {
    id: r.id,
    status: r.status,
    held: r.text_state === 'held',
    todo: r.actions.includes('answer'),
    title: `${STATUS_MARK[r.status] || ''} ${r.status_name} · ${r.place.text}`,
    who: `${r.reporter ? r.reporter.name : '居民'}${r.by_supervisor ? '（居民监督员）' : ''} · ${beijingText(r.created_at)}` +
      (r.reopened ? ` · 重新打开 ${r.reopened} 次` : ''),
    text: r.text,
    review: r.text_state === 'held' ? '⚠ 微信内容安全检测需人工审核：公开前只有反映人和工作人员能看到'
      : r.text_state === 'rejected' ? '✗ 已不予公开' : '',
    answer: r.answer ? `已答复（${beijingText(r.answered_at)}）：${r.answer}` : '',
    history: r.history.map((h, n) => ({ key: n, text: `${beijingText(h.at)} ${h.by_name}${h.event_name}` + (h.note ? '：' + h.note : '') })),
    photos: r.photos.length,
    canAnswer: r.actions.includes('answer'),
    canRelease: r.actions.includes('release'),
    canReject: r.actions.includes('reject'),
    answerText: '',
    reason: '',
    rejecting: false,
    error: '',
    busy: false,
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    phaseName: '',
    counts: '',
    filters: FILTERS,
    filter: 'all',
    reports: [],
    shown: [],
  },
  methods: {
    onLoad(options) {
      this.projectId = Number((options || {}).project_id)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        this.show(await works.reports(this.projectId))
        this.setData({ state: 'ready' })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    show(list) {
      const c = list.counts
      const reports = list.reports.map(reportView)
      const held = reports.filter((r) => r.held).length
      this.setData({
        phaseName: list.phase_name,
        counts: `共 ${c.total} 条（不含不予公开的）：待答复 ${c.open}，已答复 ${c.answered}，已解决 ${c.resolved}，重新打开 ${c.reopened}` +
          (held ? `；待审核 ${held} 条` : ''),
        reports,
      })
      this.filtered()
    },
    filtered() {
      const f = this.data.filter
      this.setData({ shown: this.data.reports.filter((r) => f === 'all' || (f === 'todo' && r.todo) || (f === 'held' && r.held)) })
    },
    pickFilter(event) {
      this.setData({ filter: event.currentTarget.dataset.key })
      this.filtered()
    },
    patch(id, fields) {
      this.setData({ reports: this.data.reports.map((r) => (r.id === id ? { ...r, ...fields } : r)) })
      this.filtered()
    },
    // One report's step, then the list as it now is.
    async act(id, call) {
      this.patch(id, { busy: true, error: '' })
      try {
        await call()
        this.show(await works.reports(this.projectId))
        wx.showToast({ title: '已完成', icon: 'success' })
      } catch (error) {
        this.patch(id, { busy: false, error: '⚠ ' + error.message })
      }
    },
    inputAnswer(event) {
      this.patch(Number(event.currentTarget.dataset.id), { answerText: event.detail.value, error: '' })
    },
    answer(event) {
      const id = Number(event.currentTarget.dataset.id)
      const text = this.data.reports.find((r) => r.id === id).answerText.trim()
      if (!text) {
        this.patch(id, { error: '⚠ 请填写答复，例如“已通知施工方今天加装防护网”' })
        return Promise.resolve()
      }
      return this.act(id, () => works.answer(id, text))
    },
    release(event) {
      const id = Number(event.currentTarget.dataset.id)
      return this.act(id, () => works.release(id))
    },
    startReject(event) {
      this.patch(Number(event.currentTarget.dataset.id), { rejecting: true, error: '' })
    },
    inputReason(event) {
      this.patch(Number(event.currentTarget.dataset.id), { reason: event.detail.value, error: '' })
    },
    reject(event) {
      const id = Number(event.currentTarget.dataset.id)
      const reason = this.data.reports.find((r) => r.id === id).reason.trim()
      if (!reason) {
        this.patch(id, { error: '⚠ 请填写不予公开的原因，反映人会看到' })
        return Promise.resolve()
      }
      return this.act(id, () => works.reject(id, reason))
    },
    async viewPhotos(event) {
      const id = Number(event.currentTarget.dataset.id)
      const report = this.data.reports.find((r) => r.id === id)
      try {
        const files = []
        for (let n = 1; n <= report.photos; n += 1) files.push(await works.photo(id, n))
        wx.previewImage({ urls: files, current: files[0] })
      } catch (error) {
        this.patch(id, { error: '⚠ ' + error.message })
      }
    },
  },
})
