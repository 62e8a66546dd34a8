// Staff: the 公示 of my scope, and for the one picked its objections (异议) and opinions (意见): the
// room and a masked name, the text and photo, what WeChat's check held for a person to read (公开 or
// 不予公开 with a reason), and an answer for each. Arrives with notice_id to open one 公示 at once.
const largeType = require('../../../behaviors/large-type')
const notices = require('../../../services/notices')
const { beijingText } = require('../../../utils/format')

function publicityLine(n) {
  const p = n.publicity
  const period = beijingText(p.period.start) + ' 至 ' + beijingText(p.period.end)
  if (p.ended_at) return '已结束 · ' + period + ' · 提出异议 ' + p.objection_count + ' 户'
  return (p.objections_open ? '公示中 · ' : '未开始 · ') + period
}

function objectionOf(o) {
  return {
    id: o.id, room: o.flat.label, name: o.name || '住户', kind: o.kind, kindName: o.kind_name, text: o.text,
    hasPhoto: o.has_photo, status: o.status, statusName: o.status_name, reason: o.reason,
    answer: o.answer, answeredAt: o.answered_at ? beijingText(o.answered_at) : '', at: beijingText(o.created_at),
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading', message: '', publicities: [], current: null, objections: [], counts: '',
    drafts: {}, reasons: {}, failure: '', busyId: null,
  },
  methods: {
    onLoad(options) {
      this.wanted = options && options.notice_id ? Number(options.notice_id) : null
      this.load()
    },
    onPullDownRefresh() {
      (this.data.current ? this.openNotice(this.data.current.id) : this.load()).then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (this.wanted) return this.openNotice(this.wanted)
      this.setData({ state: 'loading', message: '', current: null })
      try {
        const all = await notices.list()
        const publicities = all.filter((n) => n.kind === 'publicity' && n.publicity)
          .map((n) => ({ id: n.id, title: n.title, line: publicityLine(n) }))
        this.setData({ publicities, state: publicities.length ? 'ready' : 'empty', message: '您的范围内还没有公示。' })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    pick(event) {
      return this.openNotice(Number(event.currentTarget.dataset.id))
    },
    backToList() {
      this.wanted = null
      return this.load()
    },
    async openNotice(noticeId) {
      this.setData({ state: 'loading', message: '', failure: '' })
      try {
        const answer = await notices.objections(noticeId)
        if (!answer.staff) throw new Error('只有本范围的工作人员可以查看全部异议')
        const objections = answer.objections.map(objectionOf)
        const held = objections.filter((o) => o.status === 'held').length
        const objecting = new Set(objections.filter((o) => o.kind === 'objection' && o.status === 'visible').map((o) => o.room)).size
        this.setData({
          current: { id: answer.notice.id, title: answer.notice.title, line: publicityLine(answer.notice) },
          objections, counts: `异议 ${objecting} 户 · 待审核 ${held} 条 · 共 ${objections.length} 条`,
          state: objections.length ? 'ready' : 'empty', message: '这条公示还没有人提出异议或意见。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    replace(objection) {
      const objections = this.data.objections.map((o) => (o.id === objection.id ? objectionOf(objection) : o))
      this.setData({ objections })
    },
    inputAnswer(event) {
      this.setData({ ['drafts.' + event.currentTarget.dataset.id]: event.detail.value, failure: '' })
    },
    inputReason(event) {
      this.setData({ ['reasons.' + event.currentTarget.dataset.id]: event.detail.value, failure: '' })
    },
    async act(id, call) {
      if (this.data.busyId) return
      this.setData({ busyId: id, failure: '' })
      try {
        this.replace(await call())
        return true
      } catch (error) {
        this.setData({ failure: error.message })
        return false
      } finally {
        this.setData({ busyId: null })
      }
    },
    async sendAnswer(event) {
      const id = Number(event.currentTarget.dataset.id)
      const text = (this.data.drafts[id] || '').trim()
      if (!text) {
        this.setData({ failure: '请先填写答复' })
        return
      }
      if (await this.act(id, () => notices.answer(id, text))) this.setData({ ['drafts.' + id]: '' })
    },
    release(event) {
      const id = Number(event.currentTarget.dataset.id)
      return this.act(id, () => notices.release(id))
    },
    reject(event) {
      const id = Number(event.currentTarget.dataset.id)
      const reason = (this.data.reasons[id] || '').trim()
      if (!reason) {
        this.setData({ failure: '请写明不予公开的原因，提出人会看到' })
        return null
      }
      return this.act(id, () => notices.reject(id, reason))
    },
    async showPhoto(event) {
      try {
        const file = await notices.photo(Number(event.currentTarget.dataset.id))
        wx.previewImage({ urls: [file], current: file })
      } catch (error) {
        this.setData({ failure: error.message })
      }
    },
  },
})
