// One consultation for one flat: what is asked, until when, what the flat answered; an owner (or the
// owner's written proxy, told whom they sign for) chooses, signs by hand, confirms, and gets a receipt;
// whoever cannot sign online (a family member, a level the consultation requires) is told why. One step per screen; a network failure keeps the
// choice and the signature and sends them again with the same Idempotency-Key.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const { newIdempotencyKey } = require('../../utils/request')
const subscribe = require('../../utils/subscribe')
const { beijingText } = require('../../utils/format')

const BALLOT_STATUS = {
  current: '有效（计入统计）',
  superseded: '已被本人后来的表决替代',
  conflict: '与该户另一渠道的有效票冲突，未计入',
  unconfirmed: '纸质票待第二名工作人员确认',
}


const SUBSCRIBE_ON_SIGN = ['result_published', 'ballot_reminder', 'notice']

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    c: null, // {title, body, kindName, statusName, closesAt, accepting, options, published, result}
    answered: false,
    ballot: null, // {choiceLabel, recordedAt, statusName}: the owner's, or anyone's once published
    isOwner: false,
    canSign: false,
    cannotSign: '', // the backend's reason why the caller cannot sign online for the flat now
    signingFor: null, // {owner, number}: the caller signs as the owner's written proxy
    requiresLevel2: false,
    step: 'read', // read → sign → confirm
    choice: null, // {key, label}
    signed: false,
    submitting: false,
    failure: '', // the last submission did not arrive: retry with the same key
    refusal: '', // the backend refused the ballot: its message, as is
    conflictReceipt: '',
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.flatId = Number((options || {}).flat_id)
      this.load()
      if (this.id > 0 && this.flatId > 0) subscribe.load().then((templates) => { this.templates = templates })
    },
    async load() {
      if (!(this.id > 0) || !(this.flatId > 0)) {
        this.setData({ state: 'empty', message: '没有找到要查看的征询，请从首页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const [c, me] = await Promise.all([consultations.get(this.id, this.flatId), auth.me()])
        const binding = me.bindings.find((b) => b.flat.id === this.flatId && b.status === 'approved')
        this.setData({
          state: 'ready',
          c: {
            title: c.title, body: c.body, kindName: c.kind_name, statusName: c.status_name,
            closesAt: beijingText(c.closes_at), accepting: c.accepting, options: c.options,
            published: c.status === 'published', result: c.result || null,
          },
          answered: !!c.answered,
          ballot: c.ballot ? {
            choiceLabel: c.ballot.choice_label, recordedAt: beijingText(c.ballot.recorded_at),
            statusName: BALLOT_STATUS[c.ballot.status] || c.ballot.status,
          } : null,
          isOwner: !!binding && binding.relation === 'owner',
          canSign: c.cannot_sign === null,
          cannotSign: c.cannot_sign || '',
          signingFor: c.signing_for ? { owner: c.signing_for.owner, number: c.signing_for.number } : null,
          requiresLevel2: (c.rule || {}).required_level === 2,
          step: 'read', choice: null, signed: false, failure: '', refusal: '', conflictReceipt: '',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    choose(event) {
      const choice = this.data.c.options[event.currentTarget.dataset.index]
      this.key = null // a new answer: a new request
      this.signature = null
      this.setData({ choice, step: 'sign', signed: false, failure: '', refusal: '' })
    },
    onSignature(event) {
      this.setData({ signed: !event.detail.empty })
    },
    async toConfirm() {
      const pad = this.selectComponent('#signature')
      try {
        this.signature = await pad.toBase64()
      } catch (error) {
        this.setData({ failure: error.message })
        return
      }
      this.key = null
      this.setData({ step: 'confirm', failure: '' })
    },
    back() {
      const step = this.data.step === 'confirm' ? 'sign' : 'read'
      this.setData({ step, signed: false, failure: '', choice: step === 'read' ? null : this.data.choice })
    },
    async submit() {
      if (this.data.submitting || !this.signature) return
      // Consent for the messages a signer wants: the result, a reminder next time, notices. Asked
      // first, from this tap (WeChat allows it only there); the ballot does not wait for it.
      subscribe.ask(this.templates || {}, SUBSCRIBE_ON_SIGN)
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, failure: '' })
      try {
        const answer = await consultations.sign(this.id, {
          flatId: this.flatId, choice: this.data.choice.key, signature: this.signature,
        }, this.key)
        this.setData({ submitting: false })
        const proxy = this.data.signingFor
        const signedFor = proxy ? `&for=${encodeURIComponent(proxy.owner)}&proxy=${encodeURIComponent(proxy.number)}` : ''
        wx.redirectTo({ url: '/pages/receipt/index?code=' + encodeURIComponent(answer.receipt) + signedFor })
      } catch (error) {
        this.failed(error)
      }
    },
    failed(error) {
      if (error.status === 0 || error.status >= 500) {
        // Maybe recorded, maybe not: the same key makes sending again safe.
        this.setData({ submitting: false, failure: error.message })
        return
      }
      this.key = null
      if (error.status === 422 || error.status === 413) {
        // The signature or the choice did not pass: sign again.
        this.signature = null
        this.setData({ submitting: false, step: 'sign', signed: false, failure: error.message })
        return
      }
      this.setData({
        submitting: false, step: 'read', choice: null, refusal: error.message,
        conflictReceipt: (error.code === 'ballot_conflict' && error.details.receipt) || '',
      })
    },
    openReceipt() {
      wx.navigateTo({ url: '/pages/receipt/index?code=' + encodeURIComponent(this.data.conflictReceipt) })
    },
    openProxies() {
      wx.navigateTo({ url: `/pages/proxies/index?flat_id=${this.flatId}&consultation_id=${this.id}` })
    },
    openResults() {
      wx.navigateTo({ url: `/pages/results/index?id=${this.id}&flat_id=${this.flatId}` })
    },
  },
})
