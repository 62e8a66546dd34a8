// A survey's results as residents (once closed) and staff (from opening) read them: participation,
// each question's counts and shares (as the backend rounded them), rating means and satisfaction
// rates, the comments made public (staff see each one's room), how many wait for review.
const { percent } = require('./format')

const WORDS = { 1: '很不满意', 2: '不满意', 3: '一般', 4: '满意', 5: '很满意' }

function resultsView(r) {
  return {
    participation: `参与 ${r.participation.answered} / ${r.participation.flats} 户（${percent(r.participation.percent)}）`,
    overall: r.overall ? {
      rate: `总体满意率 ${percent(r.overall.satisfaction_percent)}（全部评分中 4 分、5 分的占比）`,
      mean: `全部评分平均 ${r.overall.mean_display || '—'} 分（满分 5 分）`,
    } : null,
    questions: r.questions.map((q, i) => ({
      key: q.key,
      title: `第 ${i + 1} 题 ${q.text}（${q.kind_name}）`,
      answered: `回答 ${q.answered} 户`,
      options: q.options.map((o) => ({ key: o.key, text: `${o.label}：${o.count} 户（${percent(o.percent)}）`, width: Number(o.percent) || 0 })),
      rating: q.rating ? {
        line: `平均 ${q.rating.mean_display || '—'} 分 · 满意率（4-5 分）${percent(q.rating.satisfaction_percent)}`,
        rows: [5, 4, 3, 2, 1].map((n) => ({ n, text: `${n} 分（${WORDS[n]}）：${q.rating.distribution[String(n)]} 户` })),
      } : null,
      comments: q.comments.map((c, n) => ({ key: n, text: (c.room ? c.room + '：' : '') + '“' + c.text + '”' })),
      held: q.held ? `另有 ${q.held} 条意见待工作人员审核，暂不公开` : '',
      isText: q.kind === 'text',
    })),
  }
}

module.exports = { resultsView, WORDS }
