// Payments and refunds of one contribution plan, for community staff and the compound's treasurer:
// the pledges that count with what each pledged and paid; for one of them a payment or a refund is
// recorded (amount typed in yuan and turned into fen exactly, method, the day it was paid, reference,
// optional photo of the voucher). The backend refuses paying more than pledged or refunding more than
// paid, in words shown here as is. A recording that failed is sent again with the same key.
const largeType = require('../../../behaviors/large-type')
const plans = require('../../../services/plans')
const { newIdempotencyKey } = require('../../../utils/request')
const { beijingDate, decoded, money, parseYuan } = require('../../../utils/format')
const { pickPhoto } = require('../../../utils/photo')
const pledgeForm = require('../../../utils/pledge')

const KINDS = { payment: '缴款', refund: '退款' }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    summary: '',
    methods: [], // the plan's methods: [{method, name}]
    pledges: [],
    selected: null, // the pledge id the form is open on
    kind: 'payment',
    amountText: '',
    method: '',
    paidOn: '',
    today: '',
    reference: '',
    photoPath: '',
    formError: '',
    recorded: '',
    busy: false,
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '缴款 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const plan = await plans.get(this.data.id)
        this.plan = plan
        const list = plan.status === 'draft' ? [] : await plans.pledges(this.data.id)
        const views = list.map(pledgeForm.view)
        this.setData({
          title: plan.title,
          methods: plan.methods,
          summary: `共 ${views.length} 户承诺，已缴清 ${views.filter((p) => p.state === 'paid').length} 户 · ${plan.status_name}`,
          pledges: views,
          selected: null,
          state: views.length ? 'ready' : 'empty',
          message: plan.status === 'draft' ? '方案尚未开始认筹，还没有承诺。' : '您范围内还没有计入统计的出资承诺。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- the form, on one pledge
    select(event) {
      const id = Number(event.currentTarget.dataset.id)
      const pledge = this.data.pledges.find((p) => p.id === id)
      if (!pledge) return
      const today = beijingDate()
      this.key = null
      this.photo = null
      this.setData({
        selected: id,
        kind: this.plan.status === 'not_funded' ? 'refund' : 'payment',
        amountText: '',
        method: (this.data.methods[0] || {}).method || '',
        paidOn: today,
        today,
        reference: '',
        photoPath: '',
        formError: '',
        recorded: '',
      })
    },
    cancel() {
      this.key = null
      this.photo = null
      this.setData({ selected: null, formError: '' })
    },
    changed(patch) {
      // Another amount, kind, method, day or photo is another recording: a key of its own.
      this.key = null
      this.setData({ ...patch, formError: '', recorded: '' })
    },
    pickKind(event) {
      this.changed({ kind: event.currentTarget.dataset.kind })
    },
    inputAmount(event) {
      this.changed({ amountText: event.detail.value })
    },
    pickMethod(event) {
      this.changed({ method: event.currentTarget.dataset.method })
    },
    pickDate(event) {
      this.changed({ paidOn: event.detail.value })
    },
    inputReference(event) {
      this.changed({ reference: event.detail.value })
    },
    takePhoto() {
      return pickPhoto().then(({ path, base64 }) => {
        this.photo = base64
        this.changed({ photoPath: path })
      }, (error) => error && this.setData({ formError: '⚠ ' + error.message }))
    },
    async record() {
      if (this.data.busy || !this.data.selected) return
      const amount = parseYuan(this.data.amountText)
      if (amount.error) {
        this.setData({ formError: '⚠ ' + amount.error })
        return
      }
      if (!this.data.method) {
        this.setData({ formError: '⚠ 请选择方式' })
        return
      }
      if (!/^\d{4}-\d{2}-\d{2}$/.test(this.data.paidOn || '')) {
        this.setData({ formError: '⚠ 请选择日期' })
        return
      }
      const id = this.data.selected
      const kind = this.data.kind
      if (!this.key) this.key = newIdempotencyKey()
      this.setData({ busy: true, formError: '' })
      try {
        const payment = {
          amountFen: amount.fen, method: this.data.method, paidOn: this.data.paidOn,
          reference: this.data.reference.trim(), photo: this.photo || null,
        }
        const pledge = await (kind === 'refund' ? plans.refund(id, payment, this.key) : plans.pay(id, payment, this.key))
        this.key = null
        this.photo = null
        const view = pledgeForm.view(pledge)
        wx.showToast({ title: '已登记', icon: 'success' })
        this.setData({
          pledges: this.data.pledges.map((p) => (p.id === id ? view : p)),
          selected: null,
          photoPath: '',
          recorded: `✓ 已登记${view.room}${KINDS[kind]} ${money(amount.fen)}。该户已缴 ${view.paid}（${view.stateName}）。`,
        })
      } catch (error) {
        if (error.status !== 0 && error.status < 500) this.key = null // refused: nothing was recorded
        // overpayment / over_refund / not_funded / forbidden: the backend's words, as is.
        this.setData({ formError: '⚠ ' + error.message + (this.key ? '（可再次提交）' : '') })
      } finally {
        this.setData({ busy: false })
      }
    },
    async showPhoto(event) {
      try {
        const file = await plans.paymentPhoto(Number(event.currentTarget.dataset.id))
        wx.previewImage({ urls: [file], current: file })
      } catch (error) {
        this.setData({ recorded: '⚠ ' + error.message })
      }
    },
  },
})
