// My pledges (我的出资承诺): every pledge signed for the flats I own, newest first, each with its
// receipt, whether it counts, what is paid, and its signed agreement (出资协议, a PDF) to open.
const largeType = require('../../behaviors/large-type')
const plans = require('../../services/plans')
const { openDocument } = require('../../utils/document')
const pledgeForm = require('../../utils/pledge')

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    pledges: [],
    opening: null, // the pledge whose agreement is being fetched
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
        const list = await plans.mine()
        this.setData({
          pledges: list.map(pledgeForm.view),
          state: list.length ? 'ready' : 'empty',
          message: '您还没有出资承诺。有出资方案时，可以在首页打开方案并签署。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    mark(id, error) {
      this.setData({ pledges: this.data.pledges.map((p) => (p.id === id ? { ...p, error } : p)) })
    },
    async openAgreement(event) {
      const id = Number(event.currentTarget.dataset.id)
      if (this.data.opening) return
      this.setData({ opening: id })
      this.mark(id, '')
      try {
        await openDocument(plans.agreement(id), 'pdf')
      } catch (error) {
        this.mark(id, '⚠ ' + error.message)
      } finally {
        this.setData({ opening: null })
      }
    },
    openPlan(event) {
      const { plan, flat } = event.currentTarget.dataset
      wx.navigateTo({ url: `/pages/plan/index?id=${plan}&flat_id=${flat}` })
    },
  },
})
