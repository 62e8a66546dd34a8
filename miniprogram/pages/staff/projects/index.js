// Staff: the renovation projects of my scope, each with its phase and what its next phase waits
// for, and the surveys of my scope (drafts too) with their participation; each opens its own page.
const largeType = require('../../../behaviors/large-type')
const projects = require('../../../services/projects')
const surveys = require('../../../services/surveys')
const { brief } = require('../../../utils/project')
const { beijingTime } = require('../../../utils/format')

function surveyLine(s) {
  const mark = s.status === 'open' ? '⋯' : s.status === 'closed' ? '✓' : '○'
  return {
    id: s.id,
    title: s.title,
    line: `${mark} ${s.kind_name} · ${s.status_name} · ${s.scope.name || s.compound.name}`,
    detail: s.status === 'draft' ? `截止时间：${beijingTime(s.closes_at)}（尚未开始）`
      : `已答 ${s.answered} / ${s.flats} 户 · 截止时间：${beijingTime(s.closes_at)}`,
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    projects: [],
    surveys: [],
    surveysError: '',
  },
  methods: {
    onLoad() {
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '', surveysError: '' })
      try {
        let surveysError = ''
        const [list, surveyList] = await Promise.all([
          projects.list(),
          surveys.list().catch((error) => { surveysError = '⚠ 问卷暂时无法加载：' + error.message; return [] }),
        ])
        this.setData({
          projects: list.map(brief),
          surveys: surveyList.map(surveyLine),
          surveysError,
          state: list.length || surveyList.length ? 'ready' : 'empty',
          message: '您的范围内还没有改造项目和问卷。',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
    openProject(event) {
      wx.navigateTo({ url: '/pages/staff/project/index?id=' + event.currentTarget.dataset.id })
    },
    openSurvey(event) {
      wx.navigateTo({ url: '/pages/staff/survey/index?id=' + event.currentTarget.dataset.id })
    },
  },
})
