// A progress bar with its percentage also in words: value of max, e.g. a tally's participating
// area against the roll. The percentage is cut down (never rounded up), so a share that falls
// short never reads 100% or reaches a threshold it has not reached. The bar is clamped to 0-100%.
function hundredths(x) {
  // Areas arrive as exact decimal strings ("210.50"); cents as whole numbers keep the division exact.
  const n = Math.round(Number(x) * 100)
  return Number.isFinite(n) ? n : 0
}

// value / max in tenths of a percent, floored: 2/3 → 666 (66.6%), 0/0 → 0.
function tenthsOfPercent(value, max) {
  const v = hundredths(value)
  const m = hundredths(max)
  if (m <= 0 || v <= 0) return 0
  return Math.floor((v * 1000) / m)
}

function percentText(tenths) {
  return (tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1)) + '%'
}

Component({
  properties: {
    value: { type: Number, value: 0 }, // how much (persons, flats, or m²)
    max: { type: Number, value: 0 }, // of how much
    label: { type: String, value: '' }, // what is measured, in words: "参与人数 12 / 18 人"
    mark: { type: Number, value: 0 }, // where the threshold lies, in percent (0: no mark)
    markLabel: { type: String, value: '' }, // the threshold in words: "需 ≥ 2/3"
    large: { type: Boolean, value: false },
  },
  data: { percent: '0%', width: 0 },
  observers: {
    'value, max'(value, max) {
      const tenths = tenthsOfPercent(value, max)
      this.setData({ percent: percentText(tenths), width: Math.min(100, tenths / 10) })
    },
  },
  lifetimes: {
    attached() {
      const tenths = tenthsOfPercent(this.data.value, this.data.max)
      this.setData({ percent: percentText(tenths), width: Math.min(100, tenths / 10) })
    },
  },
})

module.exports = { tenthsOfPercent, percentText }
