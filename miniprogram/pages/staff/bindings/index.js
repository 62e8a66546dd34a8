// Binding approvals for grid workers and community staff: applications the roster could not match,
// approved or rejected with a reason after checking with the owner; and flats locked after repeated
// failed checks, unlocked after a confirm; and the residents bound by the roster check (level 1) that a
// grid worker, having met them, confirms in person (当面核验, level 2: what some consultations require).
const largeType = require('../../../behaviors/large-type')
const bindings = require('../../../services/bindings')
const { beijingTime } = require('../../../utils/format')

function application(b) {
  const owner = b.roster_owner
  return {
    id: b.id,
    label: b.flat.label,
    relation: b.relation_name,
    applicant: `申请人填写：${b.applicant.name}（${b.relation_name}）` + (b.applicant.phone ? ` · ${b.applicant.phone}` : ''),
    rosterOwner: owner ? `名册业主：${owner.name}` + (owner.phone ? ` · ${owner.phone}` : ' · 名册无电话') : '名册中没有该房屋的业主',
    createdAt: '申请时间：' + beijingTime(b.created_at),
    error: '',
  }
}

function verifiable(b) {
  return {
    id: b.id, label: b.flat.label, relation: b.relation_name,
    who: `${b.applicant.name}（${b.relation_name}）` + (b.applicant.phone ? ` · ${b.applicant.phone}` : ''),
    level: b.level_name, error: '',
  }
}

function lockedFlat(f) {
  return { id: f.id, label: f.label, lockedAt: '锁定时间：' + beijingTime(f.locked_at), error: '' }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    applications: [],
    locked: [],
    verifiable: [], // approved bindings still at level 1
    rejectingId: null, // the application whose reason is being written
    reason: '',
    busy: false,
  },
  methods: {
    onLoad() {
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const [pending, locked, approved] = await Promise.all([bindings.list('pending'), bindings.lockedFlats(), bindings.list('approved')])
        const level1 = approved.filter((b) => b.status === 'approved' && b.level < 2)
        this.setData({
          applications: pending.map(application),
          locked: locked.map(lockedFlat),
          verifiable: level1.map(verifiable),
          rejectingId: null,
          reason: '',
          state: pending.length || locked.length || level1.length ? 'ready' : 'empty',
          message: '✓ 没有待审核的绑定申请，也没有被锁定的房屋或待当面核验的居民。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    setError(list, id, message) {
      this.setData({ [list]: this.data[list].map((x) => (x.id === id ? { ...x, error: message } : x)) })
    },
    removeFrom(list, id) {
      const left = this.data[list].filter((x) => x.id !== id)
      this.setData({ [list]: left })
      if (!this.data.applications.length && !this.data.locked.length && !this.data.verifiable.length) this.setData({ state: 'empty' })
    },
    async act(id, work, done) {
      if (this.data.busy) return
      this.setData({ busy: true })
      try {
        await work()
        wx.showToast({ title: done, icon: 'success' })
        this.removeFrom('applications', id)
        this.setData({ rejectingId: null, reason: '' })
      } catch (error) {
        this.setError('applications', id, '⚠ ' + error.message)
      } finally {
        this.setData({ busy: false })
      }
    },
    approve(event) {
      const id = event.currentTarget.dataset.id
      return this.act(id, () => bindings.approve(id), '已通过')
    },
    startReject(event) {
      this.setData({ rejectingId: event.currentTarget.dataset.id, reason: '' })
    },
    cancelReject() {
      this.setData({ rejectingId: null, reason: '' })
    },
    onReason(event) {
      this.setData({ reason: event.detail.value })
    },
    reject(event) {
      const id = event.currentTarget.dataset.id
      // The backend requires the reason and says so (422): one rule, in one place.
      return this.act(id, () => bindings.reject(id, this.data.reason.trim()), '已驳回')
    },
    confirmInPerson(event) {
      const b = this.data.verifiable.find((x) => x.id === event.currentTarget.dataset.id)
      wx.showModal({
        title: '当面核验',
        content: `请确认您已当面见到 ${b.who}，并核对了身份证件与房产信息。确认 ${b.label} 的这位居民已当面核验？`,
        confirmText: '确认核验',
        success: async (res) => {
          if (!res.confirm) return
          try {
            await bindings.confirmInPerson(b.id)
            wx.showToast({ title: '已核验', icon: 'success' })
            this.removeFrom('verifiable', b.id)
          } catch (error) {
            this.setError('verifiable', b.id, '⚠ ' + error.message)
          }
        },
      })
    },
    unlock(event) {
      const { id, label } = event.currentTarget.dataset
      wx.showModal({
        title: '解锁房屋',
        content: `请先与业主本人核实。确认解锁 ${label}，允许再次申请绑定？`,
        editable: true,
        placeholderText: '核实情况（选填）',
        confirmText: '解锁',
        success: async (res) => {
          if (!res.confirm) return
          try {
            await bindings.unlockFlat(id, (res.content || '').trim() || null)
            wx.showToast({ title: '已解锁', icon: 'success' })
            this.removeFrom('locked', id)
          } catch (error) {
            this.setError('locked', id, '⚠ ' + error.message)
          }
        },
      })
    },
  },
})
