// One survey (问卷) for one flat: the questions of four kinds (single choice, multiple choice, a
// 1-5 rating as five large buttons, free text up to 500 characters), required ones marked and
// checked before anything is sent; the flat's current answer filled in, and said plainly that a new
// answer replaces it (any resident of the flat may answer, the last answer counts). A network
// failure keeps every answer and sends them again with the same Idempotency-Key. WeChat's check
// on the text is said in words: refused (change it and send again) or held for staff. Once the
// survey has closed: its results, participation, each question's shares, means and satisfaction.
const largeType = require('../../behaviors/large-type')
const surveys = require('../../services/surveys')
const { newIdempotencyKey } = require('../../utils/request')
const { beijingText } = require('../../utils/format')
const { resultsView, WORDS } = require('../../utils/survey')

const TEXT_MAX = 500
const HELD = '您填写的文字意见需要工作人员审核，审核后才会公开；其他回答已经计入。'

function priorView(response) {
  if (!response) return null
  let state = ''
  if (response.text_state === 'held') state = '⚠ 本户答卷中的文字意见正在等待工作人员审核，审核后才会公开；其他回答已经计入。'
  else if (response.text_state === 'rejected') {
    state = '⚠ 工作人员审核后未公开本户的文字意见' + (response.review_reason ? '，原因：' + response.review_reason : '') + '。其他回答仍然计入。'
  }
  return {
    line: `✓ 本户已于 ${beijingText(response.answered_at)} 提交答卷（${response.by_me ? '您本人填写' : '本户其他居民填写'}）`,
    state,
  }
}

function answered(q, value) {
  if (q.kind === 'multiple') return Array.isArray(value) && value.length > 0
  if (q.kind === 'text') return typeof value === 'string' && value.trim() !== ''
  return value !== undefined && value !== null && value !== ''
}

// The form's questions as shown: what is picked, the stars, the words, what is wrong.
function questionViews(questions, answers, problems) {
  return questions.map((q, i) => {
    const value = answers[q.key]
    const view = {
      key: q.key, index: i + 1, kind: q.kind, text: q.text, required: q.required,
      mark: q.required ? '必答' : '选答', kindName: { single: '单选', multiple: '可多选', rating: '打分 1-5', text: '文字' }[q.kind],
      problem: problems[q.key] || '',
    }
    if (q.kind === 'single' || q.kind === 'multiple') {
      const chosen = q.kind === 'single' ? [value] : (value || [])
      view.options = q.options.map((o) => ({ key: o.key, label: o.label, picked: chosen.includes(o.key) }))
    } else if (q.kind === 'rating') {
      view.stars = [1, 2, 3, 4, 5].map((n) => ({ n, on: !!value && n <= value, picked: value === n }))
      view.word = value ? `您打了 ${value} 分：${WORDS[value]}` : '请点一个分数（1 分最低，5 分最高）'
    } else {
      view.value = value || ''
      view.count = `已写 ${(value || '').length} / ${TEXT_MAX} 字`
    }
    return view
  })
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    s: null, // {title, body, kindName, statusName, closesAt, scopeName, room}
    inScope: true,
    accepting: false,
    prior: null, // the flat's current answer: {line, state}
    questions: [],
    textMax: TEXT_MAX,
    formError: '',
    failure: '', // the last submission may not have arrived: send again, same key
    refusal: '', // refused for good (closed, deadline): the backend's message
    done: '',
    submitting: false,
    results: null,
    resultsNote: '',
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.flatId = Number((options || {}).flat_id)
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      if (!(this.id > 0) || !(this.flatId > 0)) {
        this.setData({ state: 'empty', message: '没有找到要填写的问卷，请从首页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const survey = await surveys.get(this.id, this.flatId)
        const flat = survey.flat
        this.survey = survey
        this.key = null
        this.problems = {}
        this.answers = {}
        if (flat && flat.response) Object.assign(this.answers, flat.response.answers)
        let results = null
        let resultsNote = ''
        if (survey.results_available) {
          results = resultsView(await surveys.results(this.id, this.flatId))
        } else if (survey.status === 'open' && !survey.accepting) {
          resultsNote = '问卷已过截止时间，结束后公布结果。'
        }
        wx.setNavigationBarTitle({ title: survey.kind_name })
        this.setData({
          state: 'ready',
          s: {
            title: survey.title, body: survey.body, kindName: survey.kind_name, statusName: survey.status_name,
            closesAt: beijingText(survey.closes_at), scopeName: survey.scope.name || survey.compound.name,
            room: flat ? flat.room : '',
          },
          inScope: !!flat,
          accepting: !!flat && survey.accepting,
          prior: flat ? priorView(flat.response) : null,
          questions: questionViews(survey.questions, this.answers, {}),
          formError: '', failure: '', refusal: '', done: '', submitting: false,
          results, resultsNote,
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- answering: any change is another answer, with a key of its own
    change(key, value) {
      this.key = null
      this.answers[key] = value
      delete this.problems[key]
      this.setData({
        questions: questionViews(this.survey.questions, this.answers, this.problems),
        formError: '', failure: '', done: '',
      })
    },
    pick(event) {
      const { key, option } = event.currentTarget.dataset
      this.change(key, option)
    },
    toggle(event) {
      const { key, option } = event.currentTarget.dataset
      const chosen = (this.answers[key] || []).slice()
      const at = chosen.indexOf(option)
      if (at >= 0) chosen.splice(at, 1)
      else chosen.push(option)
      this.change(key, chosen)
    },
    rate(event) {
      const { key, n } = event.currentTarget.dataset
      this.change(key, Number(n))
    },
    inputText(event) {
      this.change(event.currentTarget.dataset.key, event.detail.value)
    },

    // ---- sending
    payload() {
      const answers = {}
      for (const q of this.survey.questions) {
        const value = this.answers[q.key]
        if (!answered(q, value)) continue
        answers[q.key] = q.kind === 'text' ? value.trim() : value
      }
      return answers
    },
    async submit() {
      if (this.data.submitting) return
      const questions = this.survey.questions
      const missing = questions.filter((q) => q.required && !answered(q, this.answers[q.key]))
      if (missing.length) {
        this.problems = Object.fromEntries(missing.map((q) => [q.key, '⚠ 这道题必须回答']))
        const first = missing[0]
        const at = questions.indexOf(first) + 1
        this.setData({
          questions: questionViews(questions, this.answers, this.problems),
          formError: `⚠ 还有 ${missing.length} 道必答题没有回答：第 ${at} 题「${first.text}」` + (missing.length > 1 ? ' 等' : ''),
        })
        return
      }
      const answers = this.payload()
      if (!Object.keys(answers).length) {
        this.setData({ formError: '⚠ 请至少回答一道题' })
        return
      }
      this.key = this.key || newIdempotencyKey()
      this.setData({ submitting: true, formError: '', failure: '', done: '' })
      try {
        const response = await surveys.respond(this.id, { flatId: this.flatId, answers }, this.key)
        this.key = null
        this.setData({
          submitting: false,
          done: response.text_state === 'held' ? '✓ 已提交。' + HELD : '✓ 已提交，本户的答卷以这一次为准。',
          prior: priorView(response),
        })
      } catch (error) {
        this.failed(error)
      }
    },
    failed(error) {
      if (error.status === 0 || error.status >= 500) {
        // Maybe recorded, maybe not: the same key makes sending again safe.
        this.setData({ submitting: false, failure: '⚠ ' + error.message })
        return
      }
      this.key = null
      if (error.status === 422) {
        // A refused text (content_risky) or an answer the backend found wrong: named by question.
        const named = (error.details && error.details.answers) || {}
        this.problems = {}
        for (const [key, messages] of Object.entries(named)) this.problems[key] = '⚠ ' + [].concat(messages).join('；')
        this.setData({
          submitting: false,
          questions: questionViews(this.survey.questions, this.answers, this.problems),
          formError: '⚠ ' + error.message,
        })
        return
      }
      // 409 closed or past the deadline, 404: no form can help.
      this.setData({ submitting: false, accepting: false, refusal: '⚠ ' + error.message })
    },
    goHome() {
      wx.navigateBack()
    },
  },
})
