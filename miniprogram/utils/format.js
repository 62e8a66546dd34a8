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

// Roles that may do each thing, as the backend checks them (app/services/bindings.py REVIEWERS,
// app/services/ballots.py PAPER_STAFF); the backend still decides per building.
const REVIEWERS = ['grid_worker', 'community_staff', 'admin']
const PAPER_STAFF = ['grid_worker', 'community_staff', 'committee', 'admin']

module.exports = { beijingTime, beijingText, decoded, splitRoom, REVIEWERS, PAPER_STAFF }
