// The inbox: notices of my flats' buildings and copies of the messages sent to me, newest first.
// Tapping one opens it and marks it read; one button marks everything read. A 公示 shows its period;
// opened during it, a form files an objection (异议) or an opinion (意见) for one of my flats, with an
// optional photo; what I filed is listed with what became of it (held for review, refused, answered).
const largeType = require('../../behaviors/large-type')
const notices = require('../../services/notices')
const { newIdempotencyKey } = require('../../utils/request')
const { beijingText } = require('../../utils/format')
const { pickPhoto } = require('../../utils/photo')

const TEXT_MAX = 500
const KINDS = [{ key: 'objection', name: '异议（反对）' }, { key: 'opinion', name: '意见或建议' }]
const OUTCOMES = {
  visible: '已提交，工作人员会看到并答复。',
  held: '已提交，内容需要工作人员人工审核，审核后才会公开。',
  rejected: '工作人员审核后未予公开。',
}

function periodText(p) {
  return '公示期：' + beijingText(p.period.start) + ' 至 ' + beijingText(p.period.end)
}

function publicityOf(p) {
  if (!p) return null
  let state = '公示期内，可以提出异议或意见'
  if (!p.objections_open) state = p.ended_at ? '公示已结束' : (Date.parse(p.period.start) > Date.now() ? '公示期未开始' : '公示期已结束')
  return { period: periodText(p), open: p.objections_open, state }
}

function filedOf(o) {
  return {
    id: o.id, kind: o.kind_name, room: o.flat.label, text: o.text, status: o.status,
    outcome: OUTCOMES[o.status] + (o.status === 'rejected' && o.reason ? '原因：' + o.reason : ''),
    answer: o.answer, answeredAt: o.answered_at ? beijingText(o.answered_at) : '',
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading', message: '', items: [], unread: 0, openId: null,
    kinds: KINDS, textMax: TEXT_MAX,
    // the opened 公示: what I filed, the flats I may still file for, the form
    objecting: null,
  },
  methods: {
    onLoad(options) {
      this.wanted = options && options.notice_id ? Number(options.notice_id) : null
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const box = await notices.inbox()
        const items = box.items.map((i) => ({
          id: i.id, noticeId: i.notice_id, title: i.title, body: i.body, read: i.read, at: beijingText(i.created_at),
          publicity: publicityOf(i.publicity),
        }))
        this.setData({ items, unread: box.unread, state: items.length ? 'ready' : 'empty', message: '还没有消息。' })
        const wanted = items.find((i) => i.noticeId === this.wanted)
        if (wanted) this.show(wanted.id)
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    open(event) {
      return this.show(Number(event.currentTarget.dataset.id))
    },
    async show(id) {
      const opening = this.data.openId !== id
      this.setData({ openId: opening ? id : null, objecting: null })
      const item = this.data.items.find((i) => i.id === id)
      if (!item) return
      if (opening && item.publicity && item.noticeId) this.loadObjections(item)
      if (item.read) return
      try {
        const answer = await notices.markRead(id)
        this.setData({
          items: this.data.items.map((i) => (i.id === id ? { ...i, read: true } : i)),
          unread: answer.unread,
        })
      } catch (error) {
        wx.showToast({ title: error.message, icon: 'none' })
      }
    },
    async loadObjections(item) {
      this.photo = null
      this.key = null
      this.setData({ objecting: { noticeId: item.noticeId, state: 'loading', message: '' } })
      try {
        const answer = await notices.objections(item.noticeId)
        this.setData({
          objecting: {
            noticeId: item.noticeId, state: 'ready', message: '',
            open: answer.notice.publicity ? answer.notice.publicity.objections_open : false,
            filed: answer.objections.filter((o) => o.mine).map(filedOf),
            flats: answer.flats, flatIndex: 0, kind: '', text: '', photoPath: '', formError: '', busy: false, done: '',
          },
        })
      } catch (error) {
        this.setData({ objecting: { noticeId: item.noticeId, state: 'error', message: error.message } })
      }
    },
    // a tap inside the opened card must not close it
    keep() {},
    form(patch) {
      this.key = null // another text: another Idempotency-Key
      const objecting = { ...this.data.objecting, formError: '', done: '', ...patch }
      this.setData({ objecting })
    },
    pickFlat(event) {
      this.form({ flatIndex: Number(event.detail.value) })
    },
    pickKind(event) {
      this.form({ kind: event.currentTarget.dataset.key })
    },
    inputText(event) {
      this.form({ text: event.detail.value })
    },
    takePhoto() {
      return pickPhoto().then(({ path, base64 }) => {
        this.photo = base64
        this.form({ photoPath: path })
      }, (error) => error && this.form({ formError: error.message }))
    },
    removePhoto() {
      this.photo = null
      this.form({ photoPath: '' })
    },
    async submit() {
      const o = this.data.objecting
      if (!o || o.busy) return
      const flat = o.flats[o.flatIndex]
      const text = o.text.trim()
      const missing = !flat ? '没有可以提出的房屋' : !o.kind ? '请选择“异议”或“意见”' : !text ? '请填写内容' : ''
      if (missing) {
        this.setData({ objecting: { ...o, formError: missing } })
        return
      }
      this.key = this.key || newIdempotencyKey()
      this.setData({ objecting: { ...o, busy: true, formError: '' } })
      try {
        const filed = await notices.object(o.noticeId, { flatId: flat.id, kind: o.kind, text, photo: this.photo }, this.key)
        this.key = null
        this.photo = null
        const flats = o.flats.filter((f) => f.id !== flat.id)
        this.setData({
          objecting: {
            ...this.data.objecting, busy: false, filed: this.data.objecting.filed.concat([filedOf(filed)]),
            flats, flatIndex: 0, kind: '', text: '', photoPath: '', done: OUTCOMES[filed.status],
          },
        })
      } catch (error) {
        // refused content (422), the period over (409), the network: said in words, the text kept
        this.setData({ objecting: { ...this.data.objecting, busy: false, formError: error.message } })
      }
    },
    async readAll() {
      try {
        await notices.markAllRead()
        this.setData({ items: this.data.items.map((i) => ({ ...i, read: true })), unread: 0 })
      } catch (error) {
        wx.showToast({ title: error.message, icon: 'none' })
      }
    },
  },
})
