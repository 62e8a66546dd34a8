// Paper ballots of one consultation: a grid worker enters a signed paper ballot (the flat, the
// choice, a photo of the sheet); a second staff member confirms it before it counts. An entry
// that failed is sent again with the same Idempotency-Key, so it is recorded once.
const largeType = require('../../../behaviors/large-type')
const consultations = require('../../../services/consultations')
const { newIdempotencyKey } = require('../../../utils/request')
const { beijingTime, decoded } = require('../../../utils/format')
const { pickPhoto } = require('../../../utils/photo')

const STATUS_TEXT = {
  unconfirmed: '⋯ 待第二名工作人员确认',
  current: '✓ 已确认，计入统计',
  conflict: '⚠ 该户已有另一渠道的有效票，本票未计入',
  superseded: '已被该户后来的表决替代',
}

function ballotView(b) {
  return {
    id: b.id,
    room: b.room,
    choice: b.choice_label || b.choice,
    status: b.status,
    statusText: STATUS_TEXT[b.status] || b.status,
    recordedAt: '录入时间：' + beijingTime(b.recorded_at),
    receipt: b.receipt,
    error: '',
  }
}

const EMPTY_FORM = { flatIndex: -1, choice: '', photoPath: '', formError: '', entered: '' }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    accepting: false,
    options: [], // [{key, label}]
    flats: [], // [{id, room}]: the flats with no counted ballot, for the form
    flatNames: [],
    ballots: [],
    busy: false,
    ...EMPTY_FORM,
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '纸质票 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const id = this.data.id
        const c = await consultations.get(id)
        const [ballots, pending] = await Promise.all([
          consultations.paperBallots(id),
          c.accepting ? consultations.pendingFlats(id) : Promise.resolve([]),
        ])
        const flats = pending.map((f) => ({ id: f.flat_id, room: f.room }))
        this.setData({
          title: c.title,
          accepting: c.accepting,
          options: c.options,
          flats,
          flatNames: flats.map((f) => f.room),
          ballots: ballots.map(ballotView),
          state: c.accepting || ballots.length ? 'ready' : 'empty',
          message: `本次征询${c.status_name ? '（' + c.status_name + '）' : ''}没有纸质票，也已不再接受录入。`,
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- entering a paper ballot
    changed(patch) {
      // Another flat, choice or photo is another ballot: it gets a key of its own.
      this.entryKey = null
      this.setData({ ...patch, formError: '', entered: '' })
    },
    pickFlat(event) {
      this.changed({ flatIndex: Number(event.detail.value) })
    },
    pickChoice(event) {
      this.changed({ choice: event.currentTarget.dataset.key })
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
      const missing = !flat ? '请选择房屋' : !this.data.choice ? '请选择表决意见' : !this.data.photoPath ? '请拍摄纸质票照片' : ''
      if (missing) {
        this.setData({ formError: '⚠ ' + missing })
        return
      }
      if (!this.entryKey) this.entryKey = newIdempotencyKey()
      this.setData({ busy: true, formError: '' })
      try {
        const answer = await consultations.enterPaper(this.data.id, { flatId: flat.id, choice: this.data.choice, photo: this.photo }, this.entryKey)
        this.entryKey = null
        this.photo = null
        wx.showToast({ title: '已录入', icon: 'success' })
        await this.load()
        this.setData({ ...EMPTY_FORM, entered: `✓ 已录入 ${flat.room}，回执码 ${answer.receipt}。需另一名工作人员确认后才计入统计。` })
      } catch (error) {
        // The key is kept: tapping again sends the same entry, which the backend records once.
        this.setData({ formError: '⚠ ' + error.message + '（可再次提交）' })
      } finally {
        this.setData({ busy: false })
      }
    },

    openProxyPaper() {
      wx.navigateTo({ url: `/pages/staff/proxy-paper/index?id=${this.data.id}&title=${encodeURIComponent(this.data.title)}` })
    },

    // ---- confirming one entered by someone else, beside its photo
    async showPhoto(event) {
      const id = event.currentTarget.dataset.id
      try {
        const file = await consultations.paperPhoto(id)
        wx.previewImage({ urls: [file], current: file })
      } catch (error) {
        this.setData({ ballots: this.data.ballots.map((b) => (b.id === id ? { ...b, error: '⚠ ' + error.message } : b)) })
      }
    },

    async confirm(event) {
      const id = event.currentTarget.dataset.id
      try {
        const answer = await consultations.confirmPaper(id)
        wx.showToast({ title: '已确认', icon: 'success' })
        this.setData({
          ballots: this.data.ballots.map((b) => (b.id === id ? { ...b, status: answer.status, statusText: STATUS_TEXT[answer.status] || answer.status_name, error: '' } : b)),
        })
      } catch (error) {
        // 403 same_person: "录入人不能确认自己录入的纸质票…", as the backend words it.
        this.setData({ ballots: this.data.ballots.map((b) => (b.id === id ? { ...b, error: '⚠ ' + error.message } : b)) })
      }
    },
  },
})
