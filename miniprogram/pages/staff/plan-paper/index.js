// Paper pledges of one contribution plan: a grid worker enters a signed paper pledge (the flat,
// its items, methods and amounts as on the sheet, a photo of the sheet); a second staff member
// confirms it beside its photo before it counts. An entry that failed is sent again with the same
// Idempotency-Key, so it is recorded once.
const largeType = require('../../../behaviors/large-type')
const plans = require('../../../services/plans')
const { newIdempotencyKey } = require('../../../utils/request')
const { decoded, money } = require('../../../utils/format')
const { pickPhoto } = require('../../../utils/photo')
const pledgeForm = require('../../../utils/pledge')

const STATUS_TEXT = {
  unconfirmed: '⋯ 待第二名工作人员确认',
  current: '✓ 已确认，计入统计',
  superseded: '已被该户后来的承诺替代',
}

function pledgeView(p) {
  const v = pledgeForm.view(p)
  return { ...v, statusText: STATUS_TEXT[p.status] || p.status_name, recordedAt: '录入时间：' + v.signedAt }
}

const EMPTY_FORM = { flatIndex: -1, rows: [], total: '', photoPath: '', formError: '', entered: '', rowsLoading: false }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    accepting: false,
    methods: [], // the plan's methods: [{method, name}]
    flats: [], // the flats with no pledge that counts: [{id, room, dueFen}]
    flatNames: [],
    pledges: [],
    busy: false,
    ...EMPTY_FORM,
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '纸质承诺 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const id = this.data.id
        const plan = await plans.get(id)
        this.plan = plan
        const [list, pending] = await Promise.all([
          plan.status === 'draft' ? Promise.resolve([]) : plans.paperPledges(id),
          plan.accepting ? plans.pendingFlats(id) : Promise.resolve([]),
        ])
        const flats = pending.map((f) => ({ id: f.flat_id, room: f.room, dueFen: f.due_fen }))
        this.setData({
          title: plan.title,
          accepting: plan.accepting,
          methods: plan.methods,
          flats,
          flatNames: flats.map((f) => `${f.room}（应缴 ${money(f.dueFen)}）`),
          pledges: list.map(pledgeView),
          state: plan.accepting || list.length ? 'ready' : 'empty',
          message: `该出资方案（${plan.status_name}）没有纸质承诺，也不在接受录入。`,
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- entering a paper pledge: any change is another entry, with a key of its own
    changed(patch) {
      this.entryKey = null
      this.setData({ ...patch, formError: '', entered: '' })
    },
    async pickFlat(event) {
      const flatIndex = Number(event.detail.value)
      const flat = this.data.flats[flatIndex]
      this.changed({ flatIndex, rows: [], total: '', rowsLoading: !!flat })
      if (!flat) return
      try {
        // What this flat owes per item, as the sheet lists it.
        const plan = await plans.get(this.data.id, flat.id)
        if (this.data.flatIndex !== flatIndex) return // another flat was picked meanwhile
        this.plan = plan
        const rows = plan.flat ? pledgeForm.rows(plan, plan.flat, null) : []
        this.setData({ rows, total: money(pledgeForm.total(rows)), rowsLoading: false })
      } catch (error) {
        this.setData({ rowsLoading: false, formError: '⚠ ' + error.message })
      }
    },
    updateRows(rows) {
      this.changed({ rows, total: money(pledgeForm.total(rows)) })
    },
    toggleItem(event) {
      const { key } = event.currentTarget.dataset
      const row = this.data.rows.find((r) => r.key === key)
      if (row) this.updateRows(pledgeForm.include(this.data.rows, key, !row.included, this.plan))
    },
    pickMethod(event) {
      const { key, method } = event.currentTarget.dataset
      this.updateRows(pledgeForm.setMethod(this.data.rows, key, method, this.plan))
    },
    inputAmount(event) {
      this.updateRows(pledgeForm.setAmount(this.data.rows, event.currentTarget.dataset.key, event.detail.value, this.plan))
    },
    inputHours(event) {
      this.updateRows(pledgeForm.setHours(this.data.rows, event.currentTarget.dataset.key, event.detail.value, this.plan))
    },
    takePhoto() {
      return pickPhoto().then(({ path, base64 }) => {
        this.photo = base64
        this.changed({ photoPath: path })
      }, (error) => error && this.setData({ formError: '⚠ ' + error.message }))
    },
    async enter() {
      if (this.data.busy) return
      const flat = this.data.flats[this.data.flatIndex]
      const checked = flat && this.data.rows.length ? pledgeForm.lines(this.data.rows) : null
      const missing = !flat ? '请选择房屋' : !checked ? '请等该户的应缴金额加载完' : checked.error ? checked.error
        : !this.hasPhoto() ? '请拍摄纸质承诺书照片' : ''
      if (missing) {
        this.setData({ formError: '⚠ ' + missing })
        return
      }
      if (!this.entryKey) this.entryKey = newIdempotencyKey()
      this.setData({ busy: true, formError: '' })
      try {
        const answer = await plans.enterPaper(this.data.id, { flatId: flat.id, lines: checked.lines, photo: this.photo }, this.entryKey)
        this.entryKey = null
        this.photo = null
        wx.showToast({ title: '已录入', icon: 'success' })
        await this.load()
        this.setData({ ...EMPTY_FORM, entered: `✓ 已录入 ${flat.room}，承诺 ${money(answer.total_fen)}，回执码 ${answer.receipt}。需另一名工作人员确认后才计入统计。` })
      } catch (error) {
        // The key is kept: tapping again sends the same entry, which the backend records once.
        this.setData({ formError: '⚠ ' + error.message + '（可再次提交）' })
      } finally {
        this.setData({ busy: false })
      }
    },
    hasPhoto() {
      return !!(this.data.photoPath && this.photo)
    },

    // ---- confirming one entered by someone else, beside its photo
    mark(id, patch) {
      this.setData({ pledges: this.data.pledges.map((p) => (p.id === id ? { ...p, ...patch } : p)) })
    },
    async showPhoto(event) {
      const id = Number(event.currentTarget.dataset.id)
      try {
        const file = await plans.paperPhoto(id)
        wx.previewImage({ urls: [file], current: file })
      } catch (error) {
        this.mark(id, { error: '⚠ ' + error.message })
      }
    },
    async confirm(event) {
      const id = Number(event.currentTarget.dataset.id)
      try {
        const answer = await plans.confirmPaper(id)
        wx.showToast({ title: '已确认', icon: 'success' })
        this.mark(id, { status: answer.status, statusText: STATUS_TEXT[answer.status] || answer.status_name, error: '' })
      } catch (error) {
        // 403 same_person: "录入人不能确认自己录入的纸质承诺…", as the backend words it.
        this.mark(id, { error: '⚠ ' + error.message })
      }
    },
  },
})
