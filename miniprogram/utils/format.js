// Times in Beijing time (the backend answers UTC; people read Beijing time), URL-encoded page
// options, and room labels split into building and unit: one place for what every page shows.
const BEIJING_MS = 8 * 3600 * 1000
const two = (n) => String(n).padStart(2, '0')

function beijing(iso) {
  if (!iso) return null
  const t = Date.parse(iso)
  return Number.isNaN(t) ? null : new Date(t + BEIJING_MS)
}

// "2026-12-05T16:00:00Z" → "2026-12-06 00:00" (lists and tables).
function beijingTime(iso) {
  const d = beijing(iso)
  return d ? `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}` : ''
}

// "2026-12-05T09:51:29Z" → "2026年12月5日 17:51" (what residents read, as on a paper notice).
function beijingText(iso) {
  const d = beijing(iso)
  return d ? `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}` : ''
}

// "2026-03-02T01:00:00Z" → "2026年3月2日" (a day on a timeline, as on a paper notice).
function beijingDay(iso) {
  const d = beijing(iso)
  return d ? `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日` : ''
}

// A share the backend rounded (a number 83.3 or a text "83.3"; null without a base) → "83.3%", or "—".
function percent(value) {
  if (value === null || value === undefined || value === '') return '—'
  const n = Number(value)
  return Number.isFinite(n) ? n.toFixed(1) + '%' : '—'
}

// A page's options may arrive URL-encoded.
function decoded(value) {
  if (!value) return ''
  try {
    return decodeURIComponent(value)
  } catch (e) {
    return value
  }
}

// "1栋2单元301" → {building: "1栋", unit: "2单元", room: "301"}. What a label does not tell is
// left empty, so such rooms still land together in one group.
function splitRoom(label) {
  const m = /^(.*?(?:号楼|栋|幢|座))?(.*?单元)?(.*)$/.exec(label || '')
  return { building: m[1] || '', unit: m[2] || '', room: m[3] || '' }
}

// Today in Beijing as the backend takes a calendar day: "2026-11-28".
function beijingDate(now = Date.now()) {
  const d = new Date(now + BEIJING_MS)
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`
}

// Money: the backend counts integer fen; people read and type yuan.
const FEN_MAX = 2147483647 // what the backend stores (2^31 - 1 fen)

// 123456 → "¥1,234.56"; -500 → "-¥5.00".
function money(fen) {
  const n = Number(fen) || 0
  const abs = Math.abs(n)
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${n < 0 ? '-' : ''}¥${yuan}.${two(abs % 100)}`
}

// 123456 → "1234.56": what an amount field shows for editing.
function yuanText(fen) {
  const n = Math.abs(Number(fen) || 0)
  return `${fen < 0 ? '-' : ''}${Math.floor(n / 100)}.${two(n % 100)}`
}

// What a person typed in yuan → {fen} exactly, or {error} in Chinese. The decimal text is read
// digit by digit (yuan × 100 + fen), never multiplied as a float: "0.1" is 10 fen, "1234.56" is
// 123456. Full-width digits, a leading ¥ and a trailing 元 are forgiven; more than two decimals,
// a sign, or anything but a number is refused. allowZero: 0 is an amount (an exempt item).
function parseYuan(input, { allowZero = false } = {}) {
  let text = String(input === undefined || input === null ? '' : input)
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFF10 + 48))
    .replace(/[．。]/g, '.')
    .replace(/[－—]/g, '-')
    .replace(/\s+/g, '')
    .replace(/^[¥￥]/, '')
    .replace(/元$/, '')
  if (!text) return { error: '请输入金额' }
  if (/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(text)) text = text.replace(/,/g, '')
  if (/^-/.test(text)) return { error: '金额不能为负数' }
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text)
  if (!m) return { error: '请输入数字金额，例如 1234.56' }
  const decimals = m[2] || ''
  if (decimals.length > 2) return { error: '金额最多到分（小数点后两位），例如 1234.56' }
  const whole = m[1].replace(/^0+(?=\d)/, '')
  if (whole.length > 8) return { error: '金额过大，请核对' }
  const fen = Number(whole) * 100 + Number((decimals + '00').slice(0, 2))
  if (fen > FEN_MAX) return { error: '金额过大，请核对' }
  if (fen === 0 && !allowZero) return { error: '金额应大于 0' }
  return { fen }
}

// Roles that may do each thing, as the backend checks them (app/services/bindings.py REVIEWERS,
// app/services/ballots.py PAPER_STAFF, app/services/consultations.py WATCHERS and CREATORS,
// app/services/plans.py PLAN_WATCHERS and CASHIERS); the backend still decides per building.
const REVIEWERS = ['grid_worker', 'community_staff', 'admin']
const PAPER_STAFF = ['grid_worker', 'community_staff', 'committee', 'admin']
const PLAN_MANAGERS = ['committee', 'community_staff', 'street_officer', 'district_officer', 'admin']
const WATCHERS = PLAN_MANAGERS.concat(['grid_worker'])
const PLAN_WATCHERS = WATCHERS.concat(['treasurer'])
const CASHIERS = ['community_staff', 'treasurer', 'admin']
// Evaluation figures (app/services/stats.py VIEWERS) and the places they are read for.
const STATS_VIEWERS = PLAN_MANAGERS
const STATS_NODES = ['compound', 'community', 'street', 'district']

module.exports = {
  beijingTime, beijingText, beijingDate, beijingDay, percent, decoded, splitRoom, money, yuanText, parseYuan, FEN_MAX,
  REVIEWERS, PAPER_STAFF, PLAN_MANAGERS, WATCHERS, PLAN_WATCHERS, CASHIERS, STATS_VIEWERS, STATS_NODES,
}
