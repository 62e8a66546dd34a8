// A consultation's tally for grid workers, committees and community staff: participation and
// approval by headcount and by area against each threshold of the rule, what is still needed in
// words, the local conditions, the choices, and each building and unit's progress for door visits.
const largeType = require('../../../behaviors/large-type')
const consultations = require('../../../services/consultations')
const { beijingTime, decoded } = require('../../../utils/format')

const MEASURES = {
  persons: { name: '人数', unit: '人' },
  area: { name: '面积', unit: 'm²' },
  flats: { name: '户数', unit: '户' },
}
const WHAT = { participate: '参与', agree: '同意' }

function shareOf(share) {
  const [n, d] = String(share).split('/').map(Number)
  return d ? (n / d) * 100 : 0
}

function amount(value, measure) {
  return measure === 'area' ? `${value} m²` : `${value} ${MEASURES[measure].unit}`
}

function thresholdLine(t, section) {
  const measure = MEASURES[t.measure] || { name: t.measure, unit: '' }
  const base = t.base === 'all' ? '全体' : '参与者'
  const requirement = `要求：占${base}${measure.name}${t.strict ? '超过' : ' ≥ '}${t.share}`
  let verdict
  if (t.met) verdict = '✓ 已达到'
  else if (t.needed === null || t.needed === undefined) verdict = '✗ 未达到，已无法达到（需全体一致）'
  else verdict = `✗ 未达到，还需 ${amount(t.needed, t.measure)}${t.what === 'agree' ? '同意' : '参与'}`
  return {
    key: `${t.what}-${t.measure}-${t.base}-${t.share}-${t.strict}`,
    label: `${section}${measure.name} ${amount(t.value, t.measure)} / ${amount(t.of, t.measure)}`,
    value: Number(t.value),
    max: Number(t.of),
    mark: shareOf(t.share),
    requirement,
    met: t.met,
    verdict,
  }
}

function section(name, data) {
  return {
    name,
    met: data.met,
    verdict: data.met ? '✓ 已达到' : '✗ 未达到',
    summary: `${data.persons} 人 · ${data.flats} 户 · ${data.area} m²`,
    lines: data.thresholds.map((t) => thresholdLine(t, WHAT[t.what] || name)),
  }
}

function choicesText(counts, labels) {
  const parts = Object.keys(counts || {}).map((key) => `${labels[key] || key} ${counts[key]} 户`)
  return parts.length ? parts.join(' · ') : '尚无表决'
}

function place(node, labels) {
  const agreed = (node.choices && node.choices.agree) || 0
  return {
    id: node.id,
    name: node.name || '',
    flats: node.flats,
    answered: node.answered,
    area: Number(node.area),
    answeredArea: Number(node.answered_area),
    agreed,
    answeredLabel: `已表决 ${node.answered} / ${node.flats} 户`,
    areaLabel: `已表决面积 ${node.answered_area} / ${node.area} m²`,
    agreeLabel: `同意 ${agreed} / 已表决 ${node.answered} 户`,
    choices: choicesText(node.choices, labels),
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    view: null,
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '计票 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const t = await consultations.tally(this.data.id)
        if (!t.roll.flats) {
          this.setData({ state: 'empty', message: '本次征询的名册中没有住户，没有可统计的内容。' })
          return
        }
        const labels = {}
        Object.keys(t.choices).forEach((key) => { labels[key] = t.choices[key].label })
        const required = t.required_consent || { flats: [], missing: [], met: true }
        const veto = t.veto || { enabled: false, objections: 0, met: true }
        const view = {
          when: t.stored ? `✓ 已截止，结果已存档（${beijingTime(t.counted_at)} 计票）` : '⋯ 实时计票，征询仍在进行',
          outcome: t.stored ? (t.passed ? '✓ 表决通过' : '✗ 表决未通过') : (t.passed ? '✓ 目前已达到表决规则的要求' : '✗ 目前未达到表决规则的要求'),
          // still_needed speaks of the thresholds only: when they are reached, a veto or a missing
          // consenter may still fail the vote, which the conditions below say.
          stillNeeded: t.participation.met && t.approval.met ? '✓ 参与和同意的人数、面积均已达到' : t.still_needed,
          roll: `名册（开始时冻结）：${t.roll.flats} 户 · ${t.roll.persons} 人 · ${t.roll.area} m²`,
          digest: t.roll.digest ? '名册指纹：' + t.roll.digest.slice(0, 12) : '',
          sections: [section('参与', t.participation), section('同意', t.approval)],
          choices: Object.keys(t.choices).map((key) => {
            const c = t.choices[key]
            return { key, text: `${c.label}：${c.persons} 人 · ${c.flats} 户 · ${c.area} m²` }
          }),
          required: required.flats.length
            ? (required.met ? '✓ 必须同意的住户均已同意' : '✗ 必须同意的住户尚未同意：' + required.missing.join('、'))
            : '',
          veto: veto.enabled
            ? (veto.met ? '✓ 无居民明确反对' : `✗ 有 ${veto.objections} 人明确反对（本事项有反对即不通过）`)
            : '',
          buildings: t.buildings.map((b) => ({ ...place(b, labels), units: b.units.map((u) => place(u, labels)) })),
        }
        this.setData({ view, state: 'ready' })
      } catch (error) {
        // A draft has no tally yet: nothing to show rather than something wrong.
        if (error.code === 'not_open') this.setData({ state: 'empty', message: error.message })
        else this.setData({ state: 'error', message: error.message })
      }
    },
  },
})
