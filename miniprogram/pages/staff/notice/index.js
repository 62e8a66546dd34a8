// Writing a notice: where to (only places of my scope: a grid worker, the buildings of the grid),
// a title, the text, and whether to also send it as a subscribe message. One step per screen:
// write, then confirm who will receive it; a network failure keeps the text and retries with the
// same Idempotency-Key.
const largeType = require('../../../behaviors/large-type')
const notices = require('../../../services/notices')
const { newIdempotencyKey } = require('../../../utils/request')

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading', message: '', scopes: [], scopeIndex: -1, title: '', body: '', push: false,
    step: 'write', failure: '', fieldErrors: {}, sent: null, submitting: false,
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
    review() {
      const errors = {}
      if (this.data.scopeIndex < 0) errors.scope = '请选择发给哪里'
      if (!this.data.title.trim()) errors.title = '请填写标题'
      if (!this.data.body.trim()) errors.body = '请填写正文'
      this.setData({ fieldErrors: errors })
      if (!Object.keys(errors).length) this.setData({ step: 'confirm' })
    },
    back() {
      this.setData({ step: 'write', failure: '' })
    },
    async submit() {
      const scope = this.data.scopes[this.data.scopeIndex]
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, failure: '' })
      try {
        const sent = await notices.write({
          scope: { type: scope.type, id: scope.id }, title: this.data.title.trim(), body: this.data.body, push: this.data.push,
        }, this.key)
        this.key = null
        this.setData({ step: 'done', sent: { recipients: sent.recipients, pushes: sent.pushes_queued, place: scope.name } })
      } catch (error) {
        const details = (error.details && error.details.json) || {}
        const fieldErrors = Object.fromEntries(Object.entries(details).map(([k, v]) => [k, [].concat(v).join('；')]))
        this.setData({ failure: error.message, fieldErrors, step: Object.keys(fieldErrors).length ? 'write' : 'confirm' })
      } finally {
        this.setData({ submitting: false })
      }
    },
    another() {
      this.setData({ step: 'write', title: '', body: '', push: false, sent: null, fieldErrors: {} })
    },
  },
})
