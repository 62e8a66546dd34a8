// A pledge as people read it, and its lines as a form.
//
// The form has one row per item the flat shares, checked as the backend checks them
// (app/services/pledges.py check_lines): required items are always in, optional ones are chosen;
// each has a method of the plan's; labour is hours × the plan's hourly rate, any other method an
// amount in yuan, starting at the amount due, more allowed, less only where the item allows it;
// a pledge of nothing in all is refused. Used by the owner's online pledge (pages/plan) and the
// grid worker's paper one (pages/staff/plan-paper), so both send what the backend takes and say
// what is wrong in Chinese.
const { money, yuanText, parseYuan, beijingText } = require('./format')

// rows(plan, flat, pledge): plan and flat as GET /plans/<id>?flat_id= answers them; pledge the
// flat's pledge that counts (its lines start the form), or null.
function rows(plan, flat, pledge) {
  const terms = {}
  plan.items.forEach((i) => { terms[i.key] = i })
  const methods = plan.methods || []
  const given = {}
  ;((pledge && pledge.lines) || []).forEach((line) => { given[line.item] = line })
  return flat.items.map((due) => {
    const item = terms[due.item] || {}
    const line = given[due.item]
    // An exempt item (nothing due) needs no hours of labour: any other method will do.
    const usual = (due.amount_fen === 0 && methods.find((m) => m.method !== 'labour')) || methods[0]
    const method = line && methods.some((m) => m.method === line.method) ? line.method : (usual ? usual.method : '')
    const row = {
      key: due.item,
      name: due.name,
      required: !!due.required,
      included: !!due.required || !!line,
      dueFen: due.amount_fen,
      due: money(due.amount_fen),
      exempt: due.amount_fen === 0,
      allowLess: !!item.allow_less,
      method,
      amountText: yuanText(line && line.method !== 'labour' ? line.amount_fen : due.amount_fen),
      hoursText: line && line.hours ? String(line.hours) : '',
    }
    return refresh(row, plan)
  })
}

// The row's amount in fen (null while what was typed is not an amount), its words and its problem.
function refresh(row, plan) {
  const rate = plan.labour_rate_fen || 0
  let amountFen = null
  let problem = ''
  let labour = ''
  if (row.method === 'labour') {
    const hours = /^\s*\d{1,5}\s*$/.test(row.hoursText) ? Number(row.hoursText) : 0
    if (hours >= 1 && hours <= 10000) {
      amountFen = hours * rate
      labour = `投工 ${hours} 小时 × ${money(rate)}/小时 = ${money(amountFen)}`
    } else {
      problem = `请填写「${row.name}」的投工工时（1 到 10000 之间的整数小时）`
      labour = `每小时折合 ${money(rate)}`
    }
  } else {
    const parsed = parseYuan(row.amountText, { allowZero: row.exempt })
    if (parsed.error) problem = `「${row.name}」：${parsed.error}`
    else amountFen = parsed.fen
  }
  if (amountFen !== null && amountFen < row.dueFen && !row.allowLess) {
    problem = `「${row.name}」应缴 ${row.due}，本项不能少于应缴金额` + (row.method === 'labour' ? '，请增加工时或换一种出资方式' : '')
  }
  return {
    ...row,
    methodName: ((plan.methods || []).find((m) => m.method === row.method) || {}).name || '',
    amountFen,
    amount: amountFen === null ? '' : money(amountFen),
    labour,
    problem: row.included ? problem : '',
    rule: row.exempt ? '本户免于分摊此项（应缴 ¥0.00）；如愿出资，可以填写金额' : row.allowLess ? `应缴 ${row.due}，本项可以多出也可以少出` : `应缴 ${row.due}，可以多出，不能少于应缴`,
  }
}

function change(list, key, patch, plan) {
  return list.map((row) => (row.key === key ? refresh({ ...row, ...patch }, plan) : row))
}

// Optional items only: a required item stays in.
function include(list, key, on, plan) {
  const row = list.find((r) => r.key === key)
  if (!row || row.required) return list
  return change(list, key, { included: !!on }, plan)
}

function setMethod(list, key, method, plan) {
  return change(list, key, { method }, plan)
}

function setAmount(list, key, text, plan) {
  return change(list, key, { amountText: String(text) }, plan)
}

function setHours(list, key, text, plan) {
  return change(list, key, { hoursText: String(text) }, plan)
}

// The total of the chosen rows whose amounts are known, in fen.
function total(list) {
  return list.filter((r) => r.included && r.amountFen !== null).reduce((sum, r) => sum + r.amountFen, 0)
}

// What to send: {lines, totalFen} or {error} in Chinese (the first problem).
function lines(list) {
  const chosen = list.filter((r) => r.included)
  if (!chosen.length) return { error: '请至少选择一个出资项目' }
  const wrong = chosen.find((r) => r.problem)
  if (wrong) return { error: wrong.problem }
  const out = chosen.map((r) => {
    const line = { item: r.key, method: r.method, amount_fen: r.amountFen }
    if (r.method === 'labour') line.hours = Number(r.hoursText)
    return line
  })
  const totalFen = total(list)
  if (totalFen === 0) {
    // The backend takes no pledge of nothing (nothing_pledged): say so, and the way forward.
    return { error: '承诺金额合计为 0：本户在所选项目中免于分摊。如愿出资，请选择自选项目或填写金额' }
  }
  return { lines: out, totalFen }
}

// A pledge (GET /pledges, a plan's flat part, a payment's answer) as its cards show it.
function view(p) {
  return {
    id: p.id,
    planId: p.plan.id,
    flatId: p.flat_id,
    title: p.plan.title,
    planStatus: p.plan.status_name,
    room: p.room || '',
    channel: p.channel,
    channelName: p.channel_name,
    status: p.status,
    statusName: p.status_name,
    counts: p.state !== null && p.state !== undefined,
    total: money(p.total_fen),
    totalFen: p.total_fen,
    receipt: p.receipt,
    signedAt: beijingText(p.signed_at),
    confirmedAt: p.confirmed_at ? beijingText(p.confirmed_at) : '',
    state: p.state || '',
    stateName: p.state_name,
    paid: money(p.paid_fen),
    paidFen: p.paid_fen,
    refunded: p.refunded_fen ? money(p.refunded_fen) : '',
    lines: p.lines.map((l) => ({
      key: l.item,
      text: `${l.name}：${l.method_name} ${money(l.amount_fen)}` + (l.hours ? `（投工 ${l.hours} 小时）` : '') + (l.note ? `，${l.note}` : ''),
      paid: l.paid_fen ? `已缴 ${money(l.paid_fen)}` : '',
    })),
    payments: p.payments.map((x) => ({
      id: x.id,
      kind: x.kind,
      text: `${x.kind_name} ${money(x.amount_fen)} · ${x.method_name} · ${x.paid_on}` + (x.reference ? ` · 凭证号 ${x.reference}` : ''),
      hasPhoto: x.has_photo,
    })),
    error: '',
  }
}

module.exports = { rows, include, setMethod, setAmount, setHours, total, lines, view }
