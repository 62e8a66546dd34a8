// Staff and one survey: its state and participation, the results from the moment it opens (live
// until it closes; comments with their rooms, never names), the results as a workbook, and the
// texts WeChat's check held: each read by a person and made public (release) or kept from the
// results with a reason the flat's residents read (reject). Grid workers see the results; the
// backend tells them who reviews.
const largeType = require('../../../behaviors/large-type')
const surveys = require('../../../services/surveys')
const { openDocument } = require('../../../utils/document')
const { beijingText } = require('../../../utils/format')
const { resultsView } = require('../../../utils/survey')

function heldView(r) {
  return {
    id: r.id,
    room: r.room || '',
    at: beijingText(r.answered_at),
    texts: r.texts.map((t) => ({ key: t.key, question: t.question, text: t.text })),
    reason: '',
    rejecting: false,
    error: '',
    busy: false,
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    s: null,
    results: null,
    live: false,
    resultsNote: '',
    held: [],
    heldNote: '', // why the held texts are not listed (not a reviewer), or that there are none
    reviewed: [], // what this visit released or rejected: [{id, text}]
    docError: '',
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const survey = await surveys.get(this.id)
        const started = survey.status !== 'draft'
        const [results, held] = await Promise.all([
          started ? surveys.results(this.id) : Promise.resolve(null),
          started ? surveys.held(this.id).catch((error) => ({ error })) : Promise.resolve([]),
        ])
        wx.setNavigationBarTitle({ title: survey.title })
        this.setData({
          state: 'ready',
          s: {
            title: survey.title, kindName: survey.kind_name, statusName: survey.status_name,
            scope: survey.scope.name || survey.compound.name, closesAt: beijingText(survey.closes_at),
            answered: survey.flats ? `已答 ${survey.answered} / ${survey.flats} 户` : '尚未开始，开始时范围内的房屋为参与率的基数',
          },
          results: results ? resultsView(results) : null,
          live: !!results && !results.final,
          resultsNote: started ? '' : '问卷尚未开始，没有结果。',
          ...this.heldState(held),
          reviewed: [],
          docError: '',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    heldState(held) {
      if (held.error) return { held: [], heldNote: held.error.message }
      return { held: held.map(heldView), heldNote: held.length ? '' : '✓ 没有待审核的文字意见。' }
    },
    patch(id, fields) {
      this.setData({ held: this.data.held.map((h) => (h.id === id ? { ...h, ...fields } : h)) })
    },
    async review(id, call, done) {
      this.patch(id, { busy: true, error: '' })
      try {
        const answer = await call()
        const left = this.data.held.filter((h) => h.id !== id)
        const results = await surveys.results(this.id)
        this.setData({
          held: left,
          heldNote: left.length ? '' : '✓ 没有待审核的文字意见。',
          reviewed: this.data.reviewed.concat([{ id, text: `${answer.room || ''}：${done(answer)}` }]),
          results: resultsView(results),
          live: !results.final,
        })
      } catch (error) {
        this.patch(id, { busy: false, error: '⚠ ' + error.message })
      }
    },
    release(event) {
      const id = Number(event.currentTarget.dataset.id)
      return this.review(id, () => surveys.release(id), () => '✓ 已公开，已计入结果中的意见')
    },
    startReject(event) {
      this.patch(Number(event.currentTarget.dataset.id), { rejecting: true, error: '' })
    },
    inputReason(event) {
      this.patch(Number(event.currentTarget.dataset.id), { reason: event.detail.value, error: '' })
    },
    reject(event) {
      const id = Number(event.currentTarget.dataset.id)
      const reason = this.data.held.find((h) => h.id === id).reason.trim()
      if (!reason) {
        this.patch(id, { error: '⚠ 请填写不予公开的原因，该户居民会看到' })
        return Promise.resolve()
      }
      return this.review(id, () => surveys.reject(id, reason), (a) => `✗ 不予公开（原因：${a.review_reason}）；该户的其他回答仍计入`)
    },
    async openWorkbook() {
      this.setData({ docError: '' })
      try {
        await openDocument(surveys.workbook(this.id), 'xlsx')
      } catch (error) {
        this.setData({ docError: '⚠ ' + error.message })
      }
    },
  },
})
