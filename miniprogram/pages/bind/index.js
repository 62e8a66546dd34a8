// The binding form: who I am to this flat, my name, and (owners) the last 4 digits of the phone on
// the roster. What was typed is never lost: a network failure offers a retry with the same
// Idempotency-Key, and every answer of the backend is said in plain words with what to do next.
const largeType = require('../../behaviors/large-type')
const bindings = require('../../services/bindings')
const { newIdempotencyKey } = require('../../utils/request')

const RELATIONS = [
  { key: 'owner', name: '业主' },
  { key: 'family', name: '家庭成员' },
  { key: 'tenant', name: '租户' },
]
const NO_ERRORS = { relation: '', name: '', phone_last4: '' }

// An answer the resident cannot change by typing again: what it means and what to do.
const SETTLED = {
  approved: { sign: '✓', title: '绑定成功', next: '现在可以在首页查看和参与本楼的征询。' },
  pending: { sign: '⋯', title: '已提交，等待网格员审核', next: '网格员核实后即可绑定，审核结果会显示在首页。' },
  already_bound: { sign: '✓', title: '您已绑定该房屋', next: '不用再次绑定，请回首页查看。' },
  already_pending: { sign: '⋯', title: '您的申请正在等待审核', next: '不用重复提交，网格员核实后即可绑定。' },
  too_many_attempts: { sign: '⚠', title: '暂时不能提交', next: '请联系您所在网格的网格员，协助您绑定。' },
  flat_locked: { sign: '⚠', title: '该房屋已暂停绑定', next: '请联系您所在网格的网格员，核实后为您解锁。' },
  too_many_pending: { sign: '⚠', title: '暂时不能提交', next: '请等网格员处理已有的申请，或联系网格员。' },
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    flatId: null,
    label: '',
    relations: RELATIONS,
    relation: 'owner',
    name: '',
    phoneLast4: '',
    errors: NO_ERRORS,
    submitting: false,
    failure: '', // why the last submission did not go through (the form stays as typed)
    canRetry: false, // the failure was the network or the server: send the same again
    outcome: null, // {sign, title, message, next} once the backend has settled it
  },
  methods: {
    onLoad(options) {
      const flatId = Number((options || {}).flat_id)
      let label = (options || {}).label || ''
      try {
        label = decodeURIComponent(label)
      } catch (e) { /* shown as given */ }
      if (!Number.isInteger(flatId) || flatId < 1) {
        this.setData({ state: 'empty', message: '还没有选择房屋，请回到首页扫描楼栋二维码' })
        return
      }
      this.setData({ state: 'ready', flatId, label })
    },
    load() {}, // nothing to load: the flat comes from the scan page
    chooseRelation(event) {
      this.edited({ relation: event.currentTarget.dataset.key, 'errors.relation': '', 'errors.phone_last4': '' })
    },
    onName(event) {
      this.edited({ name: event.detail.value, 'errors.name': '' })
    },
    onPhone(event) {
      this.edited({ phoneLast4: event.detail.value, 'errors.phone_last4': '' })
    },
    // What is sent changed: the next submission is a new request with a new key.
    edited(data) {
      this.key = null
      this.setData({ ...data, failure: '', canRetry: false })
    },
    check() {
      const errors = { ...NO_ERRORS }
      const name = this.data.name.trim()
      if (!name || name.length > 32) errors.name = '请填写 1 到 32 个字的姓名'
      if (this.data.relation === 'owner' && !/^\d{4}$/.test(this.data.phoneLast4)) {
        errors.phone_last4 = '请填写 4 位数字'
      }
      this.setData({ errors })
      return !errors.name && !errors.phone_last4
    },
    async submit() {
      if (this.data.submitting || !this.check()) return
      this.key = this.key || newIdempotencyKey()
      const owner = this.data.relation === 'owner'
      this.setData({ submitting: true, failure: '', canRetry: false })
      try {
        const answer = await bindings.bind({
          flatId: this.data.flatId,
          relation: this.data.relation,
          name: this.data.name.trim(),
          phoneLast4: owner ? this.data.phoneLast4 : null,
        }, this.key)
        this.key = null
        this.settle(answer.status, '')
      } catch (error) {
        this.failed(error)
      }
    },
    retry() {
      this.submit()
    },
    settle(code, message) {
      const outcome = SETTLED[code]
      this.setData({ submitting: false, outcome: { ...outcome, message } })
    },
    failed(error) {
      if (error.status === 0 || error.status >= 500) {
        // Nothing is known to have been recorded: keep the key, so sending again records it once.
        this.setData({ submitting: false, failure: error.message, canRetry: true })
        return
      }
      this.key = null
      if (SETTLED[error.code]) {
        this.settle(error.code, error.message)
        return
      }
      const fields = (error.details && error.details.json) || {}
      const errors = { ...NO_ERRORS }
      for (const field of Object.keys(errors)) {
        if (fields[field]) errors[field] = [].concat(fields[field]).join('；')
      }
      const shown = errors.name || errors.phone_last4 || errors.relation
      this.setData({ submitting: false, errors, failure: shown ? '请按提示修改后再提交' : error.message })
    },
    goHome() {
      wx.reLaunch({ url: '/pages/index/index' })
    },
  },
})
