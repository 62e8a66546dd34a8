// Checking a receipt: anyone holding the code sees what was recorded for the flat, when, and whether
// it counts (and if not, why). No sign-in needed.
const largeType = require('../../behaviors/large-type')
const consultations = require('../../services/consultations')
const { beijingText } = require('../../utils/format')


const ASK = '请输入回执上的回执码（12 位字母和数字）'

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'empty',
    message: ASK,
    code: '',
    codeError: '',
    receipt: null,
    signedFor: '',
  },
  methods: {
    onLoad(options) {
      const { code, proxy } = options || {}
      // Signed as a written proxy: the consultation page says for whom (the receipt itself is the flat's).
      if (proxy) this.setData({ signedFor: `您代 ${decodeURIComponent(options.for || '')} 签署（委托编号 ${decodeURIComponent(proxy)}）` })
      if (code) {
        this.setData({ code: decodeURIComponent(code) })
        this.load()
      }
    },
    onCode(event) {
      this.setData({ code: event.detail.value, codeError: '' })
    },
    async load() {
      const code = this.data.code.replace(/[\s-]/g, '').toUpperCase()
      if (!/^[0-9A-Z]{1,16}$/.test(code)) {
        this.setData({ codeError: code ? '回执码只有字母和数字，请核对后再输入' : '请先输入回执码', receipt: null, state: 'empty', message: ASK })
        return
      }
      this.setData({ code, codeError: '', state: 'loading', message: '' })
      try {
        const r = await consultations.receipt(code)
        this.setData({
          state: 'ready',
          receipt: {
            code: r.receipt,
            title: r.consultation.title,
            room: r.room || '',
            channel: r.channel_name,
            choice: r.choice_label,
            recordedAt: beijingText(r.recorded_at),
            confirmedAt: beijingText(r.confirmed_at),
            counted: r.counted,
            statusName: r.status_name,
            hash: r.ballot_hash,
          },
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message, receipt: null })
      }
    },
    goHome() {
      wx.reLaunch({ url: '/pages/index/index' })
    },
  },
})
