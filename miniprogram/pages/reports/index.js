// Site reports of a project (项目共管): what residents and supervisors reported during the works,
// what staff answered, what became of each (open → answered → resolved, or reopened). While the
// works run, a resident of the compound (or a supervisor) reports a problem: a few words, where
// (their own building or unit, picked in one tap, or a place in words), up to 3 photos. The
// reporter, or a supervisor, confirms an answered problem resolved or reopens it saying why. A
// network failure keeps the report and sends it again with the same Idempotency-Key; WeChat's
// check on the text is said in words (refused, or held for staff before the neighbours see it).
const largeType = require('../../behaviors/large-type')
const auth = require('../../services/auth')
const works = require('../../services/works')
const { newIdempotencyKey } = require('../../utils/request')
const { beijingText } = require('../../utils/format')
const { pickPhoto } = require('../../utils/photo')

const TEXT_MAX = 1000
const REASON_MAX = 200
const PLACE_MAX = 100
const MAX_PHOTOS = 3
const STATUS_MARK = { open: '⋯', answered: '✓', resolved: '✓', reopened: '⚠' }

function reportView(r) {
  const rejected = r.history.filter((h) => h.event === 'rejected').pop()
  let review = ''
  if (r.text_state === 'held') review = '⚠ 内容需要工作人员审核，审核后其他居民才能看到；工作人员已经收到。'
  else if (r.text_state === 'rejected') review = '⚠ 工作人员审核后未公开' + (rejected && rejected.note ? '，原因：' + rejected.note : '')
  return {
    id: r.id,
    status: r.status,
    title: `${STATUS_MARK[r.status] || ''} ${r.status_name}${r.mine ? ' · 我反映的' : ''}${r.by_supervisor ? ' · 居民监督员反映' : ''}`,
    text: r.text,
    place: '地点：' + r.place.text,
    at: '反映时间：' + beijingText(r.created_at),
    review,
    answer: r.answer ? `工作人员答复（${beijingText(r.answered_at)}）：${r.answer}` : '',
    history: r.history.filter((h) => h.event !== 'filed').map((h, n) => ({
      key: n, text: `${beijingText(h.at)} ${h.by_name}${h.event_name}` + (h.note ? '：' + h.note : ''),
    })),
    photos: r.photos.length,
    canResolve: r.actions.includes('resolve'),
    canReopen: r.actions.includes('reopen'),
    reopening: false,
    reason: '',
    error: '',
    busy: false,
  }
}

// Where a resident may say the problem is, in one tap: their own unit and building in this compound.
function placeChoices(flat) {
  const choices = []
  if (flat) {
    choices.push({ key: 'unit', name: `${flat.building.name}${flat.unit.name}（我家所在单元）`, place: { building_id: flat.building.id, unit_id: flat.unit.id } })
    choices.push({ key: 'building', name: `${flat.building.name}（整栋楼）`, place: { building_id: flat.building.id } })
  }
  choices.push({ key: 'text', name: '其他地点（自己填写）', place: null })
  return choices
}

const EMPTY_FORM = { text: '', placeKey: '', placeText: '', photos: [], formError: '', failure: '', done: '', submitting: false }

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    phaseName: '',
    reportingOpen: false,
    canReport: false,
    staff: false,
    counts: '',
    reports: [],
    choices: [],
    textMax: TEXT_MAX,
    reasonMax: REASON_MAX,
    placeMax: PLACE_MAX,
    maxPhotos: MAX_PHOTOS,
    ...EMPTY_FORM,
  },
  methods: {
    onLoad(options) {
      this.projectId = Number((options || {}).project_id)
      this.flatId = Number((options || {}).flat_id) || null
      this.photos = [] // base64, beside data.photos' paths (kept off setData)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (!(this.projectId > 0)) {
        this.setData({ state: 'empty', message: '没有找到该改造项目的现场问题，请从项目页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const [list, me] = await Promise.all([
          works.reports(this.projectId),
          this.flatId ? auth.me().catch(() => null) : Promise.resolve(null),
        ])
        const binding = me && me.bindings.find((b) => b.flat.id === this.flatId && b.status === 'approved')
        this.show(list)
        this.setData({ state: 'ready', choices: placeChoices(binding ? binding.flat : null) })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    show(list) {
      const c = list.counts
      this.setData({
        phaseName: list.phase_name,
        reportingOpen: list.reporting_open,
        canReport: list.can_report,
        staff: list.staff,
        counts: c.total ? `共 ${c.total} 条：待答复 ${c.open}，已答复 ${c.answered}，已解决 ${c.resolved}，重新打开 ${c.reopened}` : '',
        reports: list.reports.map(reportView),
      })
    },
    async refresh() {
      try {
        this.show(await works.reports(this.projectId))
      } catch (error) {
        wx.showToast({ title: error.message, icon: 'none' })
      }
    },

    // ---- the form: any change is another report, with a key of its own
    form(patch) {
      this.key = null
      this.setData({ formError: '', failure: '', done: '', ...patch })
    },
    inputText(event) {
      this.form({ text: event.detail.value })
    },
    pickPlace(event) {
      this.form({ placeKey: event.currentTarget.dataset.key })
    },
    inputPlace(event) {
      this.form({ placeText: event.detail.value })
    },
    addPhoto() {
      if (this.photos.length >= MAX_PHOTOS) return Promise.resolve()
      return pickPhoto().then(({ path, base64 }) => {
        this.photos.push(base64)
        this.form({ photos: this.data.photos.concat([{ key: path + this.photos.length, path }]) })
      }, (error) => error && this.setData({ formError: '⚠ ' + error.message }))
    },
    removePhoto(event) {
      const at = Number(event.currentTarget.dataset.index)
      this.photos.splice(at, 1)
      this.form({ photos: this.data.photos.filter((_, i) => i !== at) })
    },
    async submit() {
      if (this.data.submitting) return
      const text = this.data.text.trim()
      const choice = this.data.choices.find((c) => c.key === this.data.placeKey)
      const placeText = this.data.placeText.trim()
      const missing = !text ? '请写下现场的问题' : !choice ? '请选择问题所在的地点'
        : !choice.place && !placeText ? '请填写问题所在的地点，例如“3栋东侧”' : ''
      if (missing) {
        this.setData({ formError: '⚠ ' + missing })
        return
      }
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, formError: '', failure: '', done: '' })
      try {
        const filed = await works.file(this.projectId, {
          text, place: choice.place || { text: placeText }, photos: this.photos.slice(),
        }, this.key)
        this.key = null
        this.photos = []
        this.setData({
          ...EMPTY_FORM,
          done: filed.text_state === 'held'
            ? '✓ 已提交。内容需要工作人员审核，审核后其他居民才能看到；工作人员已经收到。'
            : '✓ 已提交，工作人员会尽快答复，答复会发到“消息”里。',
        })
        await this.refresh()
      } catch (error) {
        if (error.status === 0 || error.status >= 500) {
          // Maybe recorded, maybe not: the same key makes sending again safe.
          this.setData({ submitting: false, failure: '⚠ ' + error.message })
          return
        }
        // refused text (422 content_risky), the phase over (409), a photo refused: said as the backend words it
        this.key = null
        this.setData({ submitting: false, formError: '⚠ ' + error.message })
      }
    },

    // ---- a report's photos: fetched with the session, shown in WeChat's viewer
    async viewPhotos(event) {
      const id = Number(event.currentTarget.dataset.id)
      const report = this.data.reports.find((r) => r.id === id)
      try {
        const files = []
        for (let n = 1; n <= report.photos; n += 1) files.push(await works.photo(id, n))
        wx.previewImage({ urls: files, current: files[0] })
      } catch (error) {
        this.patch(id, { error: '⚠ ' + error.message })
      }
    },

    // ---- what the reporter or a supervisor does next
    patch(id, fields) {
      this.setData({ reports: this.data.reports.map((r) => (r.id === id ? { ...r, ...fields } : r)) })
    },
    resolve(event) {
      const id = Number(event.currentTarget.dataset.id)
      return new Promise((resolve) => {
        wx.showModal({
          title: '请确认', content: '确认这个问题已经解决了吗？如果以后又出现，还可以重新打开。',
          confirmText: '已解决', cancelText: '取消',
          success: (res) => resolve(res.confirm), fail: () => resolve(false),
        })
      }).then(async (go) => {
        if (!go) return
        this.patch(id, { busy: true, error: '' })
        try {
          await works.resolve(id)
          await this.refresh()
        } catch (error) {
          this.patch(id, { busy: false, error: '⚠ ' + error.message })
        }
      })
    },
    startReopen(event) {
      this.patch(Number(event.currentTarget.dataset.id), { reopening: true, error: '' })
    },
    cancelReopen(event) {
      this.patch(Number(event.currentTarget.dataset.id), { reopening: false, reason: '', error: '' })
    },
    inputReason(event) {
      this.patch(Number(event.currentTarget.dataset.id), { reason: event.detail.value, error: '' })
    },
    async reopen(event) {
      const id = Number(event.currentTarget.dataset.id)
      const report = this.data.reports.find((r) => r.id === id)
      const reason = (report.reason || '').trim()
      if (!reason) {
        this.patch(id, { error: '⚠ 请说明为什么重新打开，例如“防护网只装了一半”' })
        return
      }
      this.patch(id, { busy: true, error: '' })
      try {
        await works.reopen(id, reason)
        await this.refresh()
      } catch (error) {
        this.patch(id, { busy: false, error: '⚠ ' + error.message })
      }
    },
  },
})
