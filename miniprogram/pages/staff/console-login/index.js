// Signing the staff console in on an office PC: scan the QR code the console shows, see which console
// asks and as whom it will be signed in, confirm. The ticket works once and for two minutes.
const largeType = require('../../../behaviors/large-type')
const consoleService = require('../../../services/console')
const { beijingTime } = require('../../../utils/format')

// What a console's QR code says (app/services/console_tickets.py QR_PREFIX): the ticket, or null.
const QR_PREFIX = 'gongjian-console:'
function ticketOf(text) {
  return typeof text === 'string' && text.startsWith(QR_PREFIX) ? text.slice(QR_PREFIX.length) : null
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    ticket: '',
    client: '',
    createdAt: '',
    expiresAt: '',
    roles: [],
    done: false,
    busy: false,
    error: '',
  },
  methods: {
    onLoad(query) {
      const ticket = query && query.ticket ? decodeURIComponent(query.ticket) : ''
      if (ticket) {
        this.setData({ ticket })
        return this.load()
      }
      return this.scan()
    },
    scan() {
      return new Promise((resolve) => {
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ['qrCode'],
          success: (res) => {
            const ticket = ticketOf(res.result)
            if (!ticket) {
              this.setData({ state: 'error', message: '这不是管理台的登录二维码，请扫描电脑上「共建管理台」显示的二维码' })
              return resolve()
            }
            this.setData({ ticket })
            this.load().then(resolve)
          },
          fail: () => {
            this.setData({ state: 'error', message: '没有扫到二维码，请重试' })
            resolve()
          },
        })
      })
    },
    async load() {
      if (!this.data.ticket) return this.scan()
      this.setData({ state: 'loading', message: '', error: '' })
      try {
        const t = await consoleService.get(this.data.ticket)
        if (t.state !== 'waiting') {
          this.setData({ state: 'error', message: `该登录二维码${t.state_name}，请在电脑上刷新后重新扫码` })
          return
        }
        this.setData({
          state: 'ready',
          client: t.console.client,
          createdAt: beijingTime(t.created_at),
          expiresAt: beijingTime(t.expires_at),
          roles: t.roles.map((r, i) => ({ key: i, text: r.role_name + (r.scope && r.scope.name ? `（${r.scope.name}）` : '') })),
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    async confirm() {
      if (this.data.busy) return
      this.setData({ busy: true, error: '' })
      try {
        await consoleService.confirm(this.data.ticket)
        this.setData({ done: true })
        wx.showToast({ title: '已登录', icon: 'success' })
      } catch (error) {
        this.setData({ error: '⚠ ' + error.message })
      } finally {
        this.setData({ busy: false })
      }
    },
    cancel() {
      wx.navigateBack()
    },
  },
})
