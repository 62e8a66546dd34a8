// A published result: passed or not, participation and approval by persons and by area against each
// threshold of the frozen rule, the choices, and each room's answer (rooms only, never names).
const largeType = require('../../behaviors/large-type')
const consultations = require('../../services/consultations')

const SHARES = { '1/2': '二分之一', '2/3': '三分之二', '3/4': '四分之三', '1/3': '三分之一', '1/4': '四分之一', '1/1': '全部', '1': '全部' }
const MEASURES = { persons: { name: '按人数', unit: ' 人' }, area: { name: '按面积', unit: ' m²' }, flats: { name: '按户数', unit: ' 户' } }

// One threshold as a resident reads it: "按人数：9 / 12 人，需达到全体的三分之二及以上 ✓ 已达到".
function describe(t) {
  const measure = MEASURES[t.measure] || { name: t.measure, unit: '' }
  const share = SHARES[t.share] || t.share
  const base = t.base === 'participants' ? '参与者的' : '全体的'
  const value = Number(t.value)
  const of = Number(t.of)
  return {
    key: `${t.what}-${t.measure}-${t.base}-${t.share}`,
    name: measure.name,
    figures: `${t.value} / ${t.of}${measure.unit}`,
    rule: t.strict ? `需超过${base}${share}` : `需达到${base}${share}及以上`,
    met: t.met,
    percent: of > 0 ? Math.min(100, Math.round((value / of) * 100)) : 0,
  }
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    title: '',
    passed: false,
    stillNeeded: '',
    roll: null,
    participation: null, // {persons, area, rows}
    approval: null,
    choices: [], // [{key, label, persons, area}]
    rooms: [], // [{room, label, answered}]
  },
  methods: {
    onLoad(options) {
      this.id = Number((options || {}).id)
      this.flatId = Number((options || {}).flat_id)
      this.load()
    },
    async load() {
      if (!(this.id > 0) || !(this.flatId > 0)) {
        this.setData({ state: 'empty', message: '没有找到要查看的结果，请从首页进入' })
        return
      }
      this.setData({ state: 'loading', message: '' })
      try {
        const { consultation, result, rooms } = await consultations.results(this.id, this.flatId)
        this.setData({
          state: 'ready',
          title: consultation.title,
          passed: result.passed,
          stillNeeded: result.passed ? '' : result.still_needed,
          roll: result.roll,
          participation: { persons: result.participation.persons, area: result.participation.area,
            rows: result.participation.thresholds.map(describe) },
          approval: { persons: result.approval.persons, area: result.approval.area,
            rows: result.approval.thresholds.map(describe) },
          choices: Object.keys(result.choices).map((key) => ({ key, ...result.choices[key] })),
          rooms: rooms.map((r) => ({ room: r.room, label: r.choice_label, answered: r.choice !== null })),
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },
  },
})
