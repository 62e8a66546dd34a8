// Writing a notice: where to (only places of my scope: a grid worker, the buildings of the grid),
// a title, the text, and whether to also send it as a subscribe message. One step per screen:
// write, then confirm who will receive it; a network failure keeps the text and retries with the
// same Idempotency-Key. A 公示 (publicity) runs from now for a number of days, during which bound
// residents may file objections and opinions; its objections are on pages/staff/objections.
const largeType = require('../../../behaviors/large-type')
const notices = require('../../../services/notices')
const { newIdempotencyKey } = require('../../../utils/request')
const { beijingText } = require('../../../utils/format')

const PERIOD_DAYS = [5, 7, 10, 15]
const DAY_MS = 24 * 3600 * 1000

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading', message: '', scopes: [], scopeIndex: -1, title: '', body: '', push: false,
    step: 'write', failure: '', fieldErrors: {}, sent: null, submitting: false,
    publicity: false, periodDays: PERIOD_DAYS, dayIndex: 1, periodEnd: '',
  },
  methods: {
    onLoad() {
      this.load()
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const scopes = await notices.scopes()
        this.setData({ scopes, state: scopes.length ? 'ready' : 'empty', message: '您的范围内没有可以发通知的楼栋。' })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    changed(patch) {
      this.key = null // another notice: another Idempotency-Key
      this.setData({ ...patch, failure: '' })
    },
    pickScope(event) {
      this.changed({ scopeIndex: Number(event.detail.value) })
    },
    inputTitle(event) {
      this.changed({ title: event.detail.value })
    },
    inputBody(event) {
      this.changed({ body: event.detail.value })
    },
    togglePush(event) {
      this.changed({ push: !!event.detail.value })
    },
    togglePublicity(event) {
      this.changed({ publicity: !!event.detail.value })
    },
    pickDays(event) {
      this.changed({ dayIndex: Number(event.detail.value) })
    },
    openObjections() {
      wx.navigateTo({ url: '/pages/staff/objections/index' })
    },
    review() {
      const errors = {}
      if (this.data.scopeIndex < 0) errors.scope = '请选择发给哪里'
      if (!this.data.title.trim()) errors.title = '请填写标题'
      if (!this.data.body.trim()) errors.body = '请填写正文'
      this.setData({ fieldErrors: errors })
      if (Object.keys(errors).length) return
      const end = new Date(Date.now() + PERIOD_DAYS[this.data.dayIndex] * DAY_MS).toISOString()
      this.setData({ step: 'confirm', periodEnd: this.data.publicity ? beijingText(end) : '' })
    },
    back() {
      this.setData({ step: 'write', failure: '' })
    },
    async submit() {
      const scope = this.data.scopes[this.data.scopeIndex]
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, failure: '' })
      try {
        const notice = {
          scope: { type: scope.type, id: scope.id }, title: this.data.title.trim(), body: this.data.body, push: this.data.push,
        }
        if (this.data.publicity) {
          const start = new Date()
          notice.kind = 'publicity'
          notice.period = { start: start.toISOString(), end: new Date(start.getTime() + PERIOD_DAYS[this.data.dayIndex] * DAY_MS).toISOString() }
        }
        const sent = await notices.write(notice, this.key)
        this.key = null
        this.setData({
          step: 'done',
          sent: { recipients: sent.recipients, pushes: sent.pushes_queued, place: scope.name, id: sent.id, publicity: !!sent.publicity },
        })
      } catch (error) {
        const details = (error.details && error.details.json) || {}
        const fieldErrors = Object.fromEntries(Object.entries(details).map(([k, v]) => [k, [].concat(v).join('；')]))
        this.setData({ failure: error.message, fieldErrors, step: Object.keys(fieldErrors).length ? 'write' : 'confirm' })
      } finally {
        this.setData({ submitting: false })
      }
    },
    another() {
      this.setData({ step: 'write', title: '', body: '', push: false, publicity: false, sent: null, fieldErrors: {} })
    },
    openSentObjections() {
      wx.navigateTo({ url: '/pages/staff/objections/index?notice_id=' + this.data.sent.id })
    },
  },
})
