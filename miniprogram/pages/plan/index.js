// One contribution plan (出资方案) for one flat: the items, their standards and the flat's amount
// for each with how it was computed; the flat's pledge with its receipt and payments. An owner
// chooses items and methods, checks the amounts, signs by hand and submits (POST /plans/<id>/
// pledges); a network failure keeps everything and sends it again with the same Idempotency-Key.
// Family members and tenants see what the flat owes and whether it pledged.
const largeType = require('../../behaviors/large-type')
const plans = require('../../services/plans')
const { newIdempotencyKey } = require('../../utils/request')
const { openDocument } = require('../../utils/document')
const pledgeForm = require('../../utils/pledge')
const subscribe = require('../../utils/subscribe')
const { beijingText, money } = require('../../utils/format')

const NOT_OWNER = {
  family: '只有业主本人（或其书面委托人）可以签署出资承诺；家庭成员可以查看本户应缴金额和是否已承诺。',
  tenant: '只有业主本人（或其书面委托人）可以签署出资承诺；租户可以查看本户应缴金额和是否已承诺。',
  staff: '您以工作人员身份查看；出资承诺须由业主本人签署。',
}

// Consent asked on the tap that pledges: a reminder before the next plan's deadline, and notices.
const SUBSCRIBE_ON_PLEDGE = ['plan_deadline', 'notice']
const REMINDED = '已订阅：截止前如本户仍未承诺，会发一次微信提醒'
const NOT_REMINDED = '未订阅提醒（可在微信设置中打开消息通知后再试）'

function outcomeText(plan) {
  if (!plan.outcome) return ''
  return plan.outcome.funded ? '✓ 已截止，资金已落实' : '✗ 已截止，未达成出资规则（已缴款项将退回）'
}

function planView(plan) {
  return {
    title: plan.title,
    body: plan.body,
    statusName: plan.status_name,
    scopeName: plan.scope.name || plan.compound.name,
    closesAt: beijingText(plan.closes_at),
    accepting: plan.accepting,
    outcome: outcomeText(plan),
    rounding: plan.rounding,
    items: plan.items.map((i) => ({
      key: i.key,
      name: i.name,
      tag: i.required ? '必选' : '自选',
      cost: money(i.cost_fen),
      subsidies: i.subsidies.map((s, n) => ({ key: n, text: `减 ${s.name} ${money(s.amount_fen)}` })),
      share: money(i.share_fen),
      standard: i.standard_text,
    })),
    methods: plan.methods.map((m) => m.name).join('、'),
    methodList: plan.methods,
    labour: plan.labour_rate_fen ? `投工投劳每小时折合 ${money(plan.labour_rate_fen)}` : '',
  }
}

function flatView(flat) {
  return {
    room: flat.room,
    detail: `${flat.floor} 层 · 专有面积 ${flat.area} m²`,
    due: money(flat.due_fen),
    items: flat.items.map((i) => ({
      key: i.item,
      name: i.name,
      tag: i.required ? '必选' : '自选',
      amount: money(i.amount_fen),
      explanation: i.explanation,
    })),
    pledged: flat.pledged,
    stateName: flat.state_name,
    paid: flat.paid_fen ? money(flat.paid_fen) : '',
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    plan: null,
    flat: null, // the flat's amounts; null when the flat is not in the plan
    pledge: null, // the flat's pledge (owners and staff only)
    canPledge: false,
    signingFor: null, // {owner, number}: the caller pledges as the owner's written proxy
    notOwner: '',
    step: 'read', // read → sign → done
    rows: [],
    total: '',
    summary: [], // what is signed: one line per chosen item
    formError: '',
    signed: false,
    submitting: false,
    failure: '', // the last submission may not have arrived: retry with the same key
    refusal: '', // the backend refused the pledge for good: its message, as is
    receipt: null,
    docError: '',
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.flatId = Number((options || {}).flat_id)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (!(this.id > 0) || !(this.flatId > 0)) {
        this.setData({ state: 'empty', message: '没有找到要查看的出资方案，请从首页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const plan = await plans.get(this.id, this.flatId)
        this.plan = plan
        const flat = plan.flat
        const relation = flat ? flat.relation : null
        const rows = flat ? pledgeForm.rows(plan, flat, flat.pledge) : []
        this.key = null
        this.signature = null
        this.setData({
          state: 'ready',
          plan: planView(plan),
          flat: flat ? flatView(flat) : null,
          pledge: flat && flat.pledge ? pledgeForm.view(flat.pledge) : null,
          // The backend says why this resident may not sign now (not the owner, not the roll's owner,
          // closed); null means the form is theirs.
          // An owner, or the holder of the owner's written proxy (relation 'proxy'), pledges.
          canPledge: !!flat && plan.accepting && (relation === 'owner' || relation === 'proxy') && !flat.cannot_pledge,
          notOwner: !flat || !plan.accepting ? ''
            : relation !== 'owner' && relation !== 'proxy' ? (NOT_OWNER[relation] || NOT_OWNER.family) : (flat.cannot_pledge || ''),
          signingFor: flat && flat.signing_for ? { owner: flat.signing_for.owner, number: flat.signing_for.number } : null,
          step: 'read', rows, total: money(pledgeForm.total(rows)),
          formError: '', signed: false, submitting: false, failure: '', refusal: '', receipt: null, docError: '',
          remindText: '', canRemind: !!(this.templates && this.templates.plan_deadline),
        })
        // What the owner may consent to on a later tap (WeChat asks only inside a tap).
        if (this.data.canPledge && !this.templates) {
          subscribe.load().then((templates) => {
            this.templates = templates
            this.setData({ canRemind: !!templates.plan_deadline })
          })
        }
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    // An owner who decides later asks for a reminder before the deadline (one message per consent).
    remindMe() {
      return subscribe.ask(this.templates || {}, ['plan_deadline'])
        .then((accepted) => this.setData({ remindText: accepted.length ? REMINDED : NOT_REMINDED }))
    },

    // ---- the form: any change is another pledge, with a key of its own
    update(rows) {
      this.key = null
      this.setData({ rows, total: money(pledgeForm.total(rows)), formError: '', failure: '' })
    },
    toggleItem(event) {
      const { key } = event.currentTarget.dataset
      const row = this.data.rows.find((r) => r.key === key)
      if (row) this.update(pledgeForm.include(this.data.rows, key, !row.included, this.plan))
    },
    pickMethod(event) {
      const { key, method } = event.currentTarget.dataset
      this.update(pledgeForm.setMethod(this.data.rows, key, method, this.plan))
    },
    inputAmount(event) {
      this.update(pledgeForm.setAmount(this.data.rows, event.currentTarget.dataset.key, event.detail.value, this.plan))
    },
    inputHours(event) {
      this.update(pledgeForm.setHours(this.data.rows, event.currentTarget.dataset.key, event.detail.value, this.plan))
    },
    toSign() {
      const checked = pledgeForm.lines(this.data.rows)
      if (checked.error) {
        this.setData({ formError: '⚠ ' + checked.error })
        return
      }
      this.lines = checked.lines
      this.signature = null
      this.key = null
      this.setData({
        step: 'sign', signed: false, formError: '', failure: '',
        summary: this.data.rows.filter((r) => r.included).map((r) => ({
          key: r.key, text: `${r.name}：${r.methodName} ${r.amount}` + (r.method === 'labour' ? `（投工 ${r.hoursText} 小时）` : ''),
        })),
        total: money(checked.totalFen),
      })
    },
    back() {
      this.signature = null
      this.key = null
      this.setData({ step: 'read', signed: false, failure: '', total: money(pledgeForm.total(this.data.rows)) })
    },

    // ---- signing and submitting
    onSignature(event) {
      // A cleared or new signature is another pledge.
      this.signature = null
      this.key = null
      this.setData({ signed: !event.detail.empty, failure: '' })
    },
    async submit() {
      if (this.data.submitting) return
      // Asked first, from this tap; the pledge never waits for it or fails because of it.
      subscribe.ask(this.templates || {}, SUBSCRIBE_ON_PLEDGE)
      if (!this.signature) {
        try {
          this.signature = await this.selectComponent('#signature').toBase64()
        } catch (error) {
          this.setData({ failure: error.message })
          return
        }
      }
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, failure: '' })
      try {
        const answer = await plans.pledge(this.id, { flatId: this.flatId, lines: this.lines, signature: this.signature }, this.key)
        this.key = null
        this.signature = null
        this.setData({
          submitting: false, step: 'done',
          receipt: { id: answer.id, code: answer.receipt, statusName: answer.status_name, total: money(answer.total_fen) },
        })
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
      const aboutSignature = error.status === 413 || (error.details && error.details['签名'])
      if (aboutSignature) {
        this.signature = null
        const pad = this.selectComponent('#signature')
        if (pad) pad.clear() // sign again (clearing says so through onSignature)
        this.setData({ submitting: false, signed: false, failure: error.message })
        return
      }
      if (error.status === 422) {
        // below_due, below_paid, a missing item: the form says what to change.
        this.signature = null
        this.setData({ submitting: false, step: 'read', formError: '⚠ ' + error.message })
        return
      }
      // 403 not_owner / not_roll_owner, 409 closed, 404: no form can help.
      this.signature = null
      this.setData({ submitting: false, step: 'read', refusal: error.message })
    },

    // ---- the signed agreement
    async openAgreement(event) {
      const id = Number(event.currentTarget.dataset.id)
      this.setData({ docError: '' })
      try {
        await openDocument(plans.agreement(id), 'pdf')
      } catch (error) {
        this.setData({ docError: '⚠ ' + error.message })
      }
    },
    openPledges() {
      wx.navigateTo({ url: '/pages/pledges/index' })
    },
    done() {
      return this.load()
    },
  },
})
