// The inbox: notices of my flats' buildings and copies of the messages sent to me, newest first.
// Tapping one opens it and marks it read; one button marks everything read.
const largeType = require('../../behaviors/large-type')
const notices = require('../../services/notices')
const { beijingText } = require('../../utils/format')

Component({
  behaviors: [largeType.behavior],
  data: { state: 'loading', message: '', items: [], unread: 0, openId: null },
  methods: {
    onLoad(options) {
      this.wanted = options && options.notice_id ? Number(options.notice_id) : null
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const box = await notices.inbox()
        const items = box.items.map((i) => ({
          id: i.id, noticeId: i.notice_id, title: i.title, body: i.body, read: i.read, at: beijingText(i.created_at),
        }))
        this.setData({ items, unread: box.unread, state: items.length ? 'ready' : 'empty', message: '还没有消息。' })
        const wanted = items.find((i) => i.noticeId === this.wanted)
        if (wanted) this.show(wanted.id)
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    open(event) {
      return this.show(Number(event.currentTarget.dataset.id))
    },
    async show(id) {
      this.setData({ openId: this.data.openId === id ? null : id })
      const item = this.data.items.find((i) => i.id === id)
      if (!item || item.read) return
      try {
        const answer = await notices.markRead(id)
        this.setData({
          items: this.data.items.map((i) => (i.id === id ? { ...i, read: true } : i)),
          unread: answer.unread,
        })
      } catch (error) {
        wx.showToast({ title: error.message, icon: 'none' })
      }
    },
    async readAll() {
      try {
        await notices.markAllRead()
        this.setData({ items: this.data.items.map((i) => ({ ...i, read: true })), unread: 0 })
      } catch (error) {
        wx.showToast({ title: error.message, icon: 'none' })
      }
    },
  },
})
