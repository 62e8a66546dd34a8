// 委托: an owner names another bound resident (by the 编号 shown on their home page and the name on
// their binding) to sign for the flat, for one consultation, one plan or until revoked, and signs the
// proxy by hand; the proxies granted and held, with their number, scope and status; revoking one
// after a confirmation. A grant that did not arrive is sent again with the same Idempotency-Key.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const plans = require('../../services/plans')
const proxies = require('../../services/proxies')
const { newIdempotencyKey } = require('../../utils/request')
const { beijingText } = require('../../utils/format')

const STATUS_SIGN = { active: '✓', unconfirmed: '⋯', revoked: '✗' }

function proxyView(p) {
  const title = p.scope.title ? `：${p.scope.title}` : ''
  const scope = p.scope.type === 'standing' ? p.scope.type_name : `${p.scope.type_name}${title}`
  return {
    id: p.id, number: p.number, flatId: p.flat.id, flatLabel: p.flat.label, owner: p.owner,
    proxyName: p.proxy.name, scopeText: scope, scopeType: p.scope.type, targetId: p.scope.id,
    status: p.status, statusText: `${STATUS_SIGN[p.status] || ''} ${p.status_name}`.trim(),
    channel: p.channel_name, createdAt: beijingText(p.created_at), canRevoke: p.can_revoke, error: '',
  }
}

const EMPTY_FORM = { step: 'list', proxyUserId: '', proxyName: '', targetIndex: -1, formError: '', failure: '', signed: false }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    myId: null,
    flat: null, // {id, label}: the flat this page grants for (an owner's)
    granted: [],
    held: [],
    targets: [], // [{type, id, label}]: what a new proxy may cover
    submitting: false,
    done: '',
    ...EMPTY_FORM,
  },
  methods: {
    onLoad(options) {
      this.flatId = Number((options || {}).flat_id) || null
      this.consultationId = Number((options || {}).consultation_id) || null
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const [me, list] = await Promise.all([auth.me(), proxies.list()])
        const binding = this.flatId && me.bindings.find((b) => b.flat.id === this.flatId && b.status === 'approved' && b.relation === 'owner')
        let targets = []
        if (binding) {
          const [cs, ps] = await Promise.all([consultations.forFlat(this.flatId), plans.forFlat(this.flatId)])
          targets = [
            ...cs.filter((c) => c.accepting).map((c) => ({ type: 'consultation', id: c.id, label: `仅限征询：${c.title}` })),
            ...ps.filter((p) => p.accepting).map((p) => ({ type: 'plan', id: p.id, label: `仅限出资方案：${p.title}` })),
            { type: 'standing', id: null, label: '长期有效，直至我撤销' },
          ]
        }
        const views = list.map(proxyView)
        const preset = targets.findIndex((t) => t.type === 'consultation' && t.id === this.consultationId)
        this.setData({
          myId: me.user.id,
          flat: binding ? { id: binding.flat.id, label: binding.flat.label } : null,
          granted: views.filter((_, i) => list[i].role !== 'holder'),
          held: views.filter((_, i) => list[i].role === 'holder'),
          targets,
          ...EMPTY_FORM,
          targetIndex: preset,
          state: 'ready',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- granting
    startGrant() {
      this.key = null
      this.signature = null
      this.setData({ step: 'form', formError: '', failure: '', done: '' })
    },
    cancel() {
      this.key = null
      this.signature = null
      this.setData({ ...EMPTY_FORM, targetIndex: this.data.targetIndex })
    },
    changed(patch) {
      this.key = null // another holder or scope: another proxy, another request
      this.setData({ ...patch, formError: '' })
    },
    onUserId(event) {
      this.changed({ proxyUserId: event.detail.value })
    },
    onName(event) {
      this.changed({ proxyName: event.detail.value })
    },
    pickTarget(event) {
      this.changed({ targetIndex: Number(event.currentTarget.dataset.index) })
    },
    toSign() {
      const id = this.data.proxyUserId.trim()
      const missing = !/^[1-9]\d{0,9}$/.test(id) ? '请填写受托人的编号（在受托人首页“我的编号”处可见，只有数字）'
        : Number(id) === this.data.myId ? '不能委托给自己，请填写受托人的编号'
          : !this.data.proxyName.trim() ? '请填写受托人的姓名（与其绑定房屋时填写的一致）'
            : this.data.targetIndex < 0 ? '请选择委托的事项' : ''
      if (missing) {
        this.setData({ formError: '⚠ ' + missing })
        return
      }
      this.setData({ step: 'sign', signed: false, formError: '' })
    },
    onSignature(event) {
      this.setData({ signed: !event.detail.empty })
    },
    async toConfirm() {
      try {
        this.signature = await this.selectComponent('#signature').toBase64()
      } catch (error) {
        this.setData({ failure: '⚠ ' + error.message })
        return
      }
      this.key = null
      this.setData({ step: 'confirm', failure: '' })
    },
    back() {
      this.setData({ step: this.data.step === 'confirm' ? 'sign' : 'form', signed: false, failure: '' })
    },
    async submit() {
      if (this.data.submitting || !this.signature) return
      const target = this.data.targets[this.data.targetIndex]
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, failure: '' })
      try {
        const p = await proxies.grant({
          flatId: this.data.flat.id, proxyUserId: Number(this.data.proxyUserId.trim()), proxyName: this.data.proxyName.trim(),
          scope: { type: target.type, id: target.id }, signature: this.signature,
        }, this.key)
        this.key = null
        this.signature = null
        wx.showToast({ title: '已委托', icon: 'success' })
        this.setData({
          ...EMPTY_FORM, submitting: false, granted: [proxyView(p), ...this.data.granted],
          done: `✓ 已委托 ${p.proxy.name} 为本户代签，委托编号 ${p.number}`,
        })
      } catch (error) {
        this.failed(error)
      }
    },
    failed(error) {
      if (error.status === 0 || error.status >= 500) {
        // Maybe recorded, maybe not: the same key makes sending again safe.
        this.setData({ submitting: false, failure: '⚠ ' + error.message })
        return
      }
      this.key = null
      if (error.status === 413 || (error.status === 422 && error.details['签名'])) {
        this.signature = null
        this.setData({ submitting: false, step: 'sign', signed: false, failure: '⚠ ' + error.message })
        return
      }
      // The holder's number or name, the scope, the limit of proxies: the backend's words, on the form.
      this.signature = null
      this.setData({ submitting: false, step: 'form', formError: '⚠ ' + error.message })
    },

    // ---- revoking
    revoke(event) {
      const p = this.data.granted.find((x) => x.id === event.currentTarget.dataset.id)
      wx.showModal({
        title: '撤销委托',
        content: `撤销后，${p.proxyName} 不能再为 ${p.flatLabel} 代签（委托编号 ${p.number}）。已代签的票仍然有效，除非您本人重新表决。确认撤销？`,
        confirmText: '撤销',
        success: async (res) => {
          if (!res.confirm) return
          try {
            const answer = await proxies.revoke(p.id)
            wx.showToast({ title: '已撤销', icon: 'success' })
            this.setData({ granted: this.data.granted.map((x) => (x.id === p.id ? proxyView(answer) : x)) })
          } catch (error) {
            this.setData({ granted: this.data.granted.map((x) => (x.id === p.id ? { ...x, error: '⚠ ' + error.message } : x)) })
          }
        },
      })
    },

    // ---- the holder signs where the proxy reaches
    openTarget(event) {
      const p = this.data.held.find((x) => x.id === event.currentTarget.dataset.id)
      const page = p.scopeType === 'plan' ? 'plan' : 'consultation'
      wx.navigateTo({ url: `/pages/${page}/index?id=${p.targetId}&flat_id=${p.flatId}` })
    },
    // A standing proxy reaches every open consultation and plan of the owner's flat: list them.
    async showReach(event) {
      const id = event.currentTarget.dataset.id
      const p = this.data.held.find((x) => x.id === id)
      const update = (fields) => this.setData({ held: this.data.held.map((x) => (x.id === id ? { ...x, ...fields } : x)) })
      try {
        const [cs, ps] = await Promise.all([consultations.forFlat(p.flatId), plans.forFlat(p.flatId)])
        const reach = [
          ...cs.filter((c) => c.accepting).map((c) => ({ key: 'c' + c.id, page: 'consultation', id: c.id, text: '征询：' + c.title })),
          ...ps.filter((x) => x.accepting).map((x) => ({ key: 'p' + x.id, page: 'plan', id: x.id, text: '出资方案：' + x.title })),
        ]
        update({ reach, reachText: reach.length ? '' : '该户目前没有正在进行的征询或出资方案', error: '' })
      } catch (error) {
        update({ error: '⚠ ' + error.message })
      }
    },
    openReach(event) {
      const { page, id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/${page}/index?id=${id}&flat_id=${flat}` })
    },
  },
})
