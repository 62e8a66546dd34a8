// One contribution plan for committees, community staff and grid workers: target, pledged and paid
// by item, method, building and unit; flats, persons and area pledging; each part of the funding
// rule met or what is missing; the outcome and refunds due once closed. Opening (which freezes every
// flat's amounts) and closing where the backend allows it, the door-visit list of flats that have
// not pledged, and the ledger (出资台账) for the finance office.
const largeType = require('../../../behaviors/large-type')
const plans = require('../../../services/plans')
const { openDocument } = require('../../../utils/document')
const { beijingTime, decoded, money, splitRoom } = require('../../../utils/format')

function planView(p) {
  const rule = p.funding_rule || {}
  const parts = []
  if (rule.required_items) parts.push('每个必选项目的承诺金额不低于居民分摊额')
  if (rule.min_flat_share) parts.push(`承诺户数不少于应分摊户数的 ${rule.min_flat_share}`)
  if (rule.required_flat_ids && rule.required_flat_ids.length) parts.push(`指定的 ${rule.required_flat_ids.length} 户必须承诺`)
  return {
    title: p.title,
    status: p.status,
    statusName: p.status_name,
    scope: p.scope.name || p.compound.name,
    closesAt: beijingTime(p.closes_at),
    items: p.items.map((i) => ({
      key: i.key,
      text: `${i.name}（${i.required ? '必选' : '自选'}）：居民分摊 ${money(i.share_fen)}，${i.standard_text}`,
    })),
    methods: p.methods.map((m) => m.name).join('、'),
    rule: parts.length ? parts.join('；') : '无附加条件',
    digest: p.digest ? '方案指纹：' + p.digest.slice(0, 12) : '',
  }
}

function tallyView(t) {
  const verdict = t.outcome
    ? (t.outcome.funded ? '✓ 已截止：资金已落实' : '✗ 已截止：未达成出资规则')
    : (t.funded ? '✓ 按目前的承诺，出资规则已全部达到' : '✗ 按目前的承诺，出资规则尚未达到')
  return {
    verdict,
    decided: t.outcome ? `${beijingTime(t.outcome.decided_at)} 截止时承诺合计 ${money(t.outcome.pledged_fen)}` : '⋯ 实时统计',
    missing: t.still_missing.map((text, i) => ({ key: i, text })),
    parts: t.parts.map((p) => ({ key: p.part, met: p.met, text: (p.met ? '✓ ' : '✗ ') + p.text, missing: p.met ? '' : p.missing })),
    target: t.target_fen,
    pledgedFen: t.totals.pledged_fen,
    netFen: t.totals.net_paid_fen,
    pledgedLabel: `已承诺 ${money(t.totals.pledged_fen)} / 目标 ${money(t.target_fen)}`,
    paidLabel: `实收 ${money(t.totals.net_paid_fen)} / 目标 ${money(t.target_fen)}`,
    totals: [
      `目标（居民分摊合计）${money(t.target_fen)}，其中必选项目 ${money(t.required_target_fen)}`,
      `已缴 ${money(t.totals.paid_fen)} · 已退 ${money(t.totals.refunded_fen)} · 实收 ${money(t.totals.net_paid_fen)}`,
    ],
    counts: [
      `承诺户数 ${t.flats.pledging} / 应分摊 ${t.flats.liable} 户（共 ${t.flats.total} 户），已缴清 ${t.flats.paid} 户`,
      `承诺业主 ${t.persons.pledging} / ${t.persons.total} 人`,
      `承诺面积 ${t.area.pledging} / ${t.area.total} m²`,
    ],
    items: t.items.map((i) => ({
      key: i.key,
      name: `${i.name}（${i.required ? '必选' : '自选'}）`,
      share: `居民分摊 ${money(i.share_fen)}（造价 ${money(i.cost_fen)} − 补贴 ${money(i.subsidy_fen)}）`,
      label: `已承诺 ${money(i.pledged_fen)} · ${i.flats_pledging} 户`,
      value: i.pledged_fen,
      max: i.share_fen,
      paid: `已缴 ${money(i.paid_fen)}`,
      missing: i.missing_fen ? `还差 ${money(i.missing_fen)}` : '✓ 承诺已足额',
    })),
    methods: t.methods.map((m) => ({ key: m.method, text: `${m.name}：承诺 ${money(m.pledged_fen)}，已缴 ${money(m.paid_fen)}` })),
    buildings: t.buildings.map((b) => ({
      id: b.id,
      name: b.name || '',
      line: `承诺 ${b.flats_pledging} / ${b.flats} 户 · 应缴 ${money(b.due_fen)} · 已承诺 ${money(b.pledged_fen)} · 已缴 ${money(b.paid_fen)}`,
      units: b.units.map((u) => ({
        id: u.id,
        name: (b.name || '') + (u.name || ''),
        line: `承诺 ${u.flats_pledging} / ${u.flats} 户 · 应缴 ${money(u.due_fen)} · 已承诺 ${money(u.pledged_fen)} · 已缴 ${money(u.paid_fen)}`,
      })),
    })),
    refunds: t.refunds_due.map((r) => ({ key: r.flat_id, text: `${r.room}：应退 ${money(r.net_paid_fen)}` })),
  }
}

// The door-visit list grouped by building and unit, as pages/staff/pending groups a consultation's.
function groupPending(flats) {
  const groups = []
  const byName = {}
  for (const f of flats) {
    const place = splitRoom(f.room)
    const name = place.building + place.unit || '其他'
    let g = byName[name]
    if (!g) {
      g = byName[name] = { name, flats: [] }
      groups.push(g)
    }
    g.flats.push({
      id: f.flat_id,
      room: place.room || f.room,
      detail: `${f.floor} 层 · ${f.area} m² · 应缴 ${money(f.due_fen)}`,
      developer: f.developer_held,
      owner: f.owner ? f.owner.name : '',
      phone: f.owner ? f.owner.phone : '',
    })
  }
  return groups.map((g) => ({ ...g, count: `${g.name}：未承诺 ${g.flats.length} 户` }))
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    plan: null,
    tally: null,
    busy: false,
    actionError: '',
    pendingShown: false,
    pendingTotal: '',
    groups: [],
    pendingError: '',
    ledgerError: '',
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '出资 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const plan = await plans.get(this.data.id)
        const tally = plan.status === 'draft' ? null : await plans.tally(this.data.id)
        this.setData({
          title: plan.title,
          plan: planView(plan),
          tally: tally ? tallyView(tally) : null,
          state: 'ready',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message })
      }
    },

    // ---- opening and closing: the backend says who may
    confirmThen(content, call) {
      if (this.data.busy) return Promise.resolve()
      return new Promise((resolve) => {
        wx.showModal({
          title: '请确认',
          content,
          confirmText: '确定',
          cancelText: '取消',
          success: (res) => resolve(res.confirm),
          fail: () => resolve(false),
        })
      }).then(async (go) => {
        if (!go) return
        this.setData({ busy: true, actionError: '' })
        try {
          await call()
          wx.showToast({ title: '已完成', icon: 'success' })
          await this.load()
        } catch (error) {
          // 403: not a committee or community staff of the scope; 409: not draft / not open, deadline passed…
          this.setData({ actionError: '⚠ ' + error.message })
        } finally {
          this.setData({ busy: false })
        }
      })
    },
    openPlan() {
      return this.confirmThen('开始认筹后，各户应缴金额按方案计算并冻结，方案不能再修改。确定开始？', () => plans.open(this.data.id))
    },
    closePlan() {
      return this.confirmThen('截止后不再接受出资承诺，并按出资规则记录结果。确定现在截止？', () => plans.close(this.data.id))
    },

    // ---- door visits
    async showPending() {
      this.setData({ pendingError: '' })
      try {
        const flats = await plans.pendingFlats(this.data.id)
        this.setData({
          pendingShown: true,
          groups: groupPending(flats),
          pendingTotal: flats.length ? `共 ${flats.length} 户尚未承诺` : '✓ 您范围内的住户均已承诺，无需上门。',
        })
      } catch (error) {
        this.setData({ pendingError: '⚠ ' + error.message })
      }
    },

    // ---- the ledger for the finance office
    async openLedger() {
      this.setData({ ledgerError: '' })
      try {
        await openDocument(plans.ledger(this.data.id), 'xlsx')
      } catch (error) {
        this.setData({ ledgerError: '⚠ ' + error.message })
      }
    },
  },
})
