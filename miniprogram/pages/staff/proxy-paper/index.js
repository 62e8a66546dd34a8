// Paper proxies (纸质委托书) of one consultation's flats: a grid worker enters a signed paper proxy (the
// flat, the holder's 编号 and name, for this consultation or until revoked, a photo of the sheet); a
// second staff member picks the flat, looks at the photo and confirms it before the holder may sign.
// An entry that failed is sent again with the same Idempotency-Key, so it is recorded once.
const largeType = require('../../../behaviors/large-type')
const consultations = require('../../../services/consultations')
const proxies = require('../../../services/proxies')
const { newIdempotencyKey } = require('../../../utils/request')
const { beijingTime, decoded } = require('../../../utils/format')
const { pickPhoto } = require('../../../utils/photo')

const STATUS_SIGN = { active: '✓', unconfirmed: '⋯', revoked: '✗' }

function proxyView(p) {
  return {
    id: p.id, number: p.number, holder: p.proxy.name, owner: p.owner, paper: p.channel === 'paper',
    scope: p.scope.type === 'standing' ? p.scope.type_name : `${p.scope.type_name}：${p.scope.title || ''}`,
    status: p.status, statusText: `${STATUS_SIGN[p.status] || ''} ${p.status_name}`.trim(),
    createdAt: '录入时间：' + beijingTime(p.created_at), error: '',
  }
}

const EMPTY_FORM = { proxyUserId: '', proxyName: '', standing: false, photoPath: '', formError: '', entered: '' }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading', message: '', id: null, title: '',
    flats: [], flatNames: [], flatIndex: -1, proxies: [], busy: false,
    ...EMPTY_FORM,
  },
  methods: {
    onLoad(options) {
      this.setData({ id: Number(options.id), title: decoded(options.title) })
      this.load()
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const [c, pending] = await Promise.all([consultations.get(this.data.id), consultations.pendingFlats(this.data.id)])
        const flats = pending.map((f) => ({ id: f.flat_id, room: f.room }))
        this.setData({
          title: c.title, flats, flatNames: flats.map((f) => f.room),
          state: flats.length ? 'ready' : 'empty', message: '本次征询没有未表决的住户，无需录入委托书。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    changed(patch) {
      this.entryKey = null // another flat, holder, scope or photo: another proxy
      this.setData({ ...patch, formError: '', entered: '' })
    },
    async pickFlat(event) {
      this.changed({ flatIndex: Number(event.detail.value), proxies: [] })
      await this.loadProxies()
    },
    async loadProxies() {
      const flat = this.data.flats[this.data.flatIndex]
      try {
        this.setData({ proxies: (await proxies.list(flat.id)).map(proxyView) })
      } catch (error) {
        this.setData({ formError: '⚠ ' + error.message })
      }
    },
    onUserId(event) { this.changed({ proxyUserId: event.detail.value }) },
    onName(event) { this.changed({ proxyName: event.detail.value }) },
    pickScope(event) { this.changed({ standing: event.currentTarget.dataset.standing === 'yes' }) },
    takePhoto() {
      return pickPhoto().then(({ path, base64 }) => {
        this.photo = base64
        this.changed({ photoPath: path })
      }, (error) => error && this.setData({ formError: '⚠ ' + error.message }))
    },
    async enter() {
      if (this.data.busy) return
      const flat = this.data.flats[this.data.flatIndex]
      const id = this.data.proxyUserId.trim()
      const missing = !flat ? '请选择委托人的房屋' : !/^[1-9]\d{0,9}$/.test(id) ? '请填写受托人的编号（只有数字）'
        : !this.data.proxyName.trim() ? '请填写受托人的姓名' : !this.data.photoPath ? '请拍摄纸质委托书照片' : ''
      if (missing) {
        this.setData({ formError: '⚠ ' + missing })
        return
      }
      if (!this.entryKey) this.entryKey = newIdempotencyKey()
      this.setData({ busy: true, formError: '' })
      try {
        const p = await proxies.enterPaper({
          flatId: flat.id, proxyUserId: Number(id), proxyName: this.data.proxyName.trim(), photo: this.photo,
          scope: this.data.standing ? { type: 'standing', id: null } : { type: 'consultation', id: this.data.id },
        }, this.entryKey)
        this.entryKey = null
        this.photo = null
        wx.showToast({ title: '已录入', icon: 'success' })
        this.setData({ ...EMPTY_FORM, entered: `✓ 已录入 ${flat.room} 的委托书，委托编号 ${p.number}。需另一名工作人员确认后才生效。` })
        await this.loadProxies()
      } catch (error) {
        // The key is kept: tapping again sends the same entry, which the backend records once.
        this.setData({ formError: '⚠ ' + error.message + '（可再次提交）' })
      } finally {
        this.setData({ busy: false })
      }
    },
    setError(id, message) {
      this.setData({ proxies: this.data.proxies.map((p) => (p.id === id ? { ...p, error: message } : p)) })
    },
    async showPhoto(event) {
      const id = event.currentTarget.dataset.id
      try {
        const file = await proxies.photo(id)
        wx.previewImage({ urls: [file], current: file })
      } catch (error) {
        this.setError(id, '⚠ ' + error.message)
      }
    },
    async confirm(event) {
      const id = event.currentTarget.dataset.id
      try {
        const p = await proxies.confirm(id)
        wx.showToast({ title: '已确认', icon: 'success' })
        this.setData({ proxies: this.data.proxies.map((x) => (x.id === id ? proxyView(p) : x)) })
      } catch (error) {
        // 403 same_person: "录入人不能确认自己录入的纸质委托书…", as the backend words it.
        this.setError(id, '⚠ ' + error.message)
      }
    },
  },
})
