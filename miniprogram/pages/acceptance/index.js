// The acceptance (验收) of a project: who represents the compound, who signed what, the rule and
// whether it passed (and what is still needed), the defects open and resolved. A representative who
// may sign chooses an opinion (pass, pass with remarks, or fail with each defect on a line of its
// own), writes remarks, signs by hand and submits; a network failure keeps everything and sends it
// again with the same Idempotency-Key; a refusal (signed already, not in acceptance) is shown as
// the backend words it.
const largeType = require('../../behaviors/large-type')
const works = require('../../services/works')
const { newIdempotencyKey } = require('../../utils/request')
const { beijingText } = require('../../utils/format')

const OPINIONS = [
  { key: 'pass', name: '通过' },
  { key: 'pass_with_remarks', name: '通过（附意见）' },
  { key: 'fail', name: '不通过（列出缺陷）' },
]
const MAX_DEFECTS = 20

function stateView(a) {
  return {
    phaseName: a.phase_name,
    signingOpen: a.signing_open,
    passed: a.passed,
    verdict: (a.passed ? '✓ ' : '⋯ ') + a.status,
    rule: '通过规则：' + a.rule.text,
    representatives: `居民代表 ${a.representatives.count} 位：${a.representatives.names.join('、') || '暂无'}；已签署 ${a.representatives.signed} 位`,
    needed: a.required === null ? '' : `签署通过 ${a.passing} 位，需 ${a.required} 位` + (a.passed ? '' : `，还差 ${a.needed} 位`),
    signatures: a.signatures.map((s) => ({
      id: s.id,
      title: `${s.name}：${s.opinion === 'fail' ? '✗' : '✓'} ${s.opinion_name}${s.mine ? '（我）' : ''}${s.current ? '' : '（已不是居民代表，不计入）'}`,
      at: '签署时间：' + beijingText(s.signed_at),
      remarks: s.remarks ? '意见：' + s.remarks : '',
      defects: s.defects.map((text, n) => ({ key: n, text: `${n + 1}. ${text}` })),
    })),
    open: a.defects.open.map((d) => ({ id: d.id, text: d.text })),
    resolved: a.defects.resolved.map((d) => ({ id: d.id, text: d.text, note: `已整改（${beijingText(d.resolved_at)}）` + (d.note ? '：' + d.note : '') })),
    me: a.me,
  }
}

const EMPTY_FORM = { opinion: '', remarks: '', defects: [{ key: 0, text: '' }], formError: '', failure: '', refusal: '', signed: false, submitting: false }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    a: null,
    opinions: OPINIONS,
    maxDefects: MAX_DEFECTS,
    done: '',
    ...EMPTY_FORM,
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
      if (!(this.projectId > 0)) {
        this.setData({ state: 'empty', message: '没有找到要查看的验收，请从项目页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const a = await works.acceptance(this.projectId)
        this.key = null
        this.signature = null
        this.defectKeys = 1
        this.setData({ state: 'ready', a: stateView(a), done: '', ...EMPTY_FORM })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- the opinion: any change is another signing, with a key of its own
    form(patch) {
      this.key = null
      this.setData({ formError: '', failure: '', ...patch })
    },
    pickOpinion(event) {
      this.form({ opinion: event.currentTarget.dataset.key })
    },
    inputRemarks(event) {
      this.form({ remarks: event.detail.value })
    },
    inputDefect(event) {
      const at = Number(event.currentTarget.dataset.index)
      this.form({ defects: this.data.defects.map((d, i) => (i === at ? { ...d, text: event.detail.value } : d)) })
    },
    addDefect() {
      if (this.data.defects.length >= MAX_DEFECTS) return
      this.defectKeys = (this.defectKeys || 1) + 1
      this.form({ defects: this.data.defects.concat([{ key: this.defectKeys, text: '' }]) })
    },
    removeDefect(event) {
      const at = Number(event.currentTarget.dataset.index)
      const left = this.data.defects.filter((_, i) => i !== at)
      this.form({ defects: left.length ? left : [{ key: 0, text: '' }] })
    },
    onSignature(event) {
      this.signature = null
      this.key = null
      this.setData({ signed: !event.detail.empty, failure: '' })
    },
    // What the backend will refuse, said before signing is sent.
    check() {
      const opinion = this.data.opinion
      const remarks = this.data.remarks.trim()
      const defects = this.data.defects.map((d) => d.text.trim()).filter(Boolean)
      if (!opinion) return { error: '请选择验收意见：通过、通过（附意见）或不通过' }
      if (opinion === 'pass_with_remarks' && !remarks) return { error: '选择“通过（附意见）”时，请在意见栏写下您的意见' }
      if (opinion === 'fail' && !defects.length) return { error: '选择“不通过”时，请逐条写下缺陷（每行一条）' }
      return { opinion, remarks, defects: opinion === 'fail' ? defects : [] }
    },
    async submit() {
      if (this.data.submitting) return
      const checked = this.check()
      if (checked.error) {
        this.setData({ formError: '⚠ ' + checked.error })
        return
      }
      if (!this.signature) {
        try {
          this.signature = await this.selectComponent('#signature').toBase64()
        } catch (error) {
          this.setData({ formError: '⚠ ' + error.message })
          return
        }
      }
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, formError: '', failure: '', refusal: '' })
      try {
        const a = await works.sign(this.projectId, { ...checked, signature: this.signature }, this.key)
        this.key = null
        this.signature = null
        this.setData({ ...EMPTY_FORM, a: stateView(a), done: '✓ 您的验收意见已签署提交' })
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
      const aboutSignature = error.status === 413 || (error.details && error.details['签名'])
      if (aboutSignature) {
        this.signature = null
        const pad = this.selectComponent('#signature')
        if (pad) pad.clear()
        this.setData({ submitting: false, signed: false, formError: '⚠ ' + error.message })
        return
      }
      if (error.status === 422) {
        this.setData({ submitting: false, formError: '⚠ ' + error.message })
        return
      }
      // 409 already_signed / wrong_phase, 403 not a representative: no form can help.
      this.signature = null
      this.setData({ submitting: false, refusal: '⚠ ' + error.message })
    },
  },
})
