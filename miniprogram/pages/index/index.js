// Home: my flats, what waits for me (open consultations not yet answered), the large-type switch,
// scanning a building's code, checking a receipt, and the staff pages for staff.
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const consultations = require('../../services/consultations')
const notices = require('../../services/notices')
const { beijingText } = require('../../utils/format')

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    user: null,
    flats: [], // [{binding, label, status, statusName, reason, waiting: [{id, title, closesAt}], answered}]
    isStaff: false,
    unread: 0,
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
        const [me, box] = await Promise.all([auth.me(), notices.inbox()])
        const flats = await Promise.all(me.bindings.map(async (b) => {
          const item = {
            bindingId: b.id, flatId: b.flat.id, label: b.flat.label, relation: b.relation_name,
            status: b.status, statusName: b.status_name, reason: b.reason || '', waiting: [],
          }
          if (b.status !== 'approved') return item
          const list = await consultations.forFlat(b.flat.id)
          item.waiting = list
            .filter((c) => c.accepting && !c.answered)
            .map((c) => ({ id: c.id, title: c.title, closesAt: beijingText(c.closes_at) }))
          item.published = list.filter((c) => c.status === 'published').map((c) => ({ id: c.id, title: c.title }))
          return item
        }))
        this.setData({
          user: me.user,
          flats,
          unread: box.unread,
          isStaff: me.roles.length > 0,
          state: flats.length || me.roles.length ? 'ready' : 'empty',
          message: '您还没有绑定房屋。请扫描楼栋门口的二维码，或点击下方“扫码绑定房屋”。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    toggleLarge(event) {
      largeType.setLarge(event.detail.value)
      this.setData({ large: !!event.detail.value })
    },
    scan() {
      wx.scanCode({
        onlyFromCamera: false,
        success: (res) => {
          const match = (res.path || '').match(/scene=([^&]+)/)
          const scene = match ? decodeURIComponent(match[1]) : ''
          const url = scene ? '/pages/scan/index?scene=' + encodeURIComponent(scene)
            : '/pages/scan/index?q=' + encodeURIComponent(res.result || '')
          wx.navigateTo({ url })
        },
      })
    },
    openConsultation(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/consultation/index?id=${id}&flat_id=${flat}` })
    },
    openResults(event) {
      const { id, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/results/index?id=${id}&flat_id=${flat}` })
    },
    openInbox() {
      wx.navigateTo({ url: '/pages/inbox/index' })
    },
    checkReceipt() {
      wx.navigateTo({ url: '/pages/receipt/index' })
    },
    openStaff() {
      wx.navigateTo({ url: '/pages/staff/index' })
    },
  },
})
