// A renovation project's story as residents and staff read it (GET /projects/<id>): the content by
// the national classification, the budget, the seven phases as a timeline with who moved each and
// why, what the next phase waits for, the consultation's result, the funds, the site reports, the
// acceptance and the surveys. One place for the words, so both pages say the same.
const { beijingDay, money, percent } = require('./format')

// What the story's parts carry without a name of their own (the backend's own words:
// app/models/consultations.py, contributions.py, projects.py).
const CONSULTATION_STATUS = { draft: '草稿', open: '征询中', closed: '已截止', published: '已公布' }
const PLAN_STATUS = { draft: '草稿', open: '认筹中', funded: '已截止·资金已落实', not_funded: '已截止·未达成' }
const SURVEY_STATUS = { draft: '草稿', open: '进行中', closed: '已结束' }
const PHASES = ['survey', 'plan', 'funding', 'works', 'acceptance', 'evaluation', 'done']

function phaseIndex(phase) {
  return PHASES.indexOf(phase)
}

// The timeline: every phase with its mark (✓ passed, ● now, ○ to come), its date, who and why.
function timeline(p) {
  const now = phaseIndex(p.phase)
  return p.phases.map((ph, i) => {
    const state = i < now ? 'passed' : i === now ? 'current' : 'future'
    const mark = state === 'passed' ? '✓' : state === 'current' ? '●' : '○'
    let who = ''
    if (ph.entered_at) who = ph.by_system ? '系统按条件推进' : (i === 0 ? '项目创建' : '工作人员推进')
    const why = ph.reason && !(i === 0 && ph.reason === '项目创建') ? ph.reason : ''
    return {
      key: ph.phase,
      state,
      title: `${mark} ${ph.name}${state === 'current' ? '（当前阶段）' : ''}`,
      date: ph.entered_at ? beijingDay(ph.entered_at) : '',
      who,
      why,
    }
  })
}

// What the next phase waits for, in words; null once done.
function nextView(p) {
  if (!p.next) return null
  const n = p.next
  const automatic = n.phase === 'funding' || n.phase === 'works'
  let waiting
  if (!n.met) waiting = '⋯ 目前：' + n.status
  else if (automatic) waiting = '✓ 条件已满足：' + n.status
  else waiting = '✓ 条件已满足（' + n.status + '），等待工作人员推进'
  return { phase: n.phase, name: n.name, title: `下一阶段：${n.name}`, condition: '进入条件：' + n.condition, waiting, met: n.met }
}

function consultationView(c) {
  if (!c) return null
  const shown = c.passed !== null && c.passed !== undefined
  const part = c.participation
  return {
    id: c.id,
    title: c.title,
    status: c.status,
    statusName: CONSULTATION_STATUS[c.status] || c.status,
    result: shown ? (c.passed ? '✓ 方案征询已通过' : '✗ 方案征询未通过') : '',
    participation: shown && part ? `参与 ${part.persons} 人、${part.area} m²，参与人数和面积${part.met ? '已达到' : '未达到'}法定要求` : '',
    waiting: shown ? '' : (c.status === 'open' ? '⋯ 正在征询，截止后计票' : c.status === 'closed' ? '⋯ 已截止，结果公布后显示' : ''),
  }
}

function fundsView(f) {
  if (!f) return null
  return {
    planId: f.plan_id,
    title: f.title,
    statusName: PLAN_STATUS[f.status] || f.status,
    pledged: f.target_fen === null ? '尚未开始认筹' : `已承诺 ${money(f.pledged_fen)} / 目标 ${money(f.target_fen)}`,
    paid: `已缴 ${money(f.paid_fen)}`,
    flats: `承诺 ${f.flats_pledging} / ${f.flats} 户`,
  }
}

function surveyView(s, label) {
  if (!s) return null
  const answered = s.flats ? `参与 ${s.answered} / ${s.flats} 户（${percent(s.participation_percent)}）` : `已答 ${s.answered} 户`
  const satisfaction = s.rate_percent !== null && s.rate_percent !== undefined
    ? `满意率 ${percent(s.rate_percent)}，平均分 ${s.mean}（满分 5 分）` : ''
  return { id: s.id, label, title: s.title, statusName: SURVEY_STATUS[s.status] || s.status, status: s.status, answered, satisfaction }
}

function reportsView(r, phase) {
  const at = phaseIndex(phase)
  return {
    total: r.total,
    line: r.total ? `共 ${r.total} 条：待答复 ${r.open}，已答复 ${r.answered}，已解决 ${r.resolved}，重新打开 ${r.reopened}` : '还没有人反映现场问题',
    open: phase === 'works' || phase === 'acceptance',
    shown: at >= phaseIndex('works') || r.total > 0,
  }
}

function acceptanceView(a, phase) {
  const at = phaseIndex(phase)
  return {
    shown: at >= phaseIndex('acceptance') || a.signed > 0,
    verdict: a.passed ? '✓ 验收已通过' : at >= phaseIndex('acceptance') ? '⋯ 验收尚未通过' : '⋯ 尚未开始验收',
    line: `居民代表 ${a.representatives} 位，已签署 ${a.signed} 位，签署通过 ${a.passing} 位`,
    defects: a.defects_open ? `⚠ 还有 ${a.defects_open} 项缺陷待整改` : '',
  }
}

function story(p) {
  return {
    id: p.id,
    title: p.title,
    body: p.body,
    compound: p.compound.name,
    compoundId: p.compound.id,
    phase: p.phase,
    phaseName: p.phase_name,
    items: p.items.map((i, n) => ({ key: n, name: i.name, level: i.level, levelName: i.level_name })),
    budget: '预算 ' + money(p.budget_fen),
    timeline: timeline(p),
    next: nextView(p),
    done: !p.next,
    consultation: consultationView(p.consultation),
    funds: fundsView(p.funds),
    surveys: [surveyView(p.needs_survey, '需求调查'), surveyView(p.satisfaction, '满意度评价')].filter(Boolean),
    reports: p.reports ? reportsView(p.reports, p.phase) : null,
    acceptance: p.acceptance ? acceptanceView(p.acceptance, p.phase) : null,
    links: p.links,
  }
}

// One project in a list line.
function brief(p) {
  const n = nextView(p)
  return { id: p.id, title: p.title, compound: p.compound.name, phaseName: p.phase_name, next: n ? n.waiting : '✓ 项目已完成' }
}

module.exports = { story, brief, timeline, nextView, phaseIndex, PHASES, CONSULTATION_STATUS, PLAN_STATUS, SURVEY_STATUS }
