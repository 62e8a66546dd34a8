// A contribution plan as the backend answers it (app/services/plan_views.py), taken from a real
// run: 3栋 of 阳光里小区, 16 flats in two units; 1单元's elevator (required, by floor coefficient ×
// area, first floor exempt) and 楼道美化 (optional, shared equally, less allowed); direct payment,
// provident fund or labour at ¥30.00 an hour; funded when every required item is covered and
// 2/3 of the liable flats pledge. Flat 5 is 3栋1单元301 (3rd floor, 84.00 m²).
const ITEMS = [
  {
    key: 'elevator1', name: '1单元加装电梯', required: true, cost_fen: 60000000,
    subsidies: [{ name: '政府补贴', amount_fen: 20000000 }], share_fen: 40000000,
    standard: { type: 'floor_coefficient', type_name: '按楼层系数 × 面积', coefficients: { 1: '0', 2: '0.6', 3: '0.8', 4: '1.0' }, default: '1' },
    standard_text: '按楼层系数 × 专有面积分摊：1层 0，2层 0.6，3层 0.8，4层 1.0（系数 0 的楼层免于分摊）',
    allow_less: false, applies_to: { type: 'unit', id: 1 },
  },
  {
    key: 'greening', name: '楼道美化', required: false, cost_fen: 1000001, subsidies: [], share_fen: 1000001,
    standard: { type: 'fixed', type_name: '每户均摊', coefficients: null, default: '1' },
    standard_text: '每户均摊', allow_less: true, applies_to: null,
  },
]

const ROUNDING = '最大余数法：各户先取应分摊额的整分，余下的分依次给小数部分最大的户（相同时给房屋编号小的户），各户金额之和恰好等于居民分摊额'

function plan(fields = {}) {
  return {
    id: 1, title: '3栋加装电梯出资方案', body: '按楼层系数分摊，一楼免于分摊。',
    scope: { type: 'building', id: 1, name: '阳光里小区3栋' }, compound: { id: 1, name: '阳光里小区' },
    status: 'open', status_name: '认筹中', closes_at: '2026-12-08T11:54:29Z',
    opened_at: '2026-11-28T11:54:29Z', closed_at: null,
    digest: '7542e07a79b8fac045a3ea9bf10b4b89b0c1cf4d7558a4c500f6ba2ab6a45080',
    items: ITEMS,
    methods: [{ method: 'direct', name: '直接缴纳' }, { method: 'provident_fund', name: '住房公积金' }, { method: 'labour', name: '投工投劳' }],
    labour_rate_fen: 3000,
    funding_rule: { required_items: true, min_flat_share: '2/3', required_flat_ids: [] },
    rounding: ROUNDING, accepting: true, outcome: null, flat: null,
    ...fields,
  }
}

const ELEVATOR_EXPLANATION = '专有面积 84.00 m² × 3 层系数 0.8 = 权重 67.2；67.2 ÷ 总权重 407.2 × 居民分摊 400,000.00 元 ≈ 66011.7878 元，按最大余数法取整到分：66,011.79 元'
const GREENING_EXPLANATION = '每户权重 1；1 ÷ 总权重 16 × 居民分摊 10,000.01 元 ≈ 625.0006 元，按最大余数法取整到分：625.00 元'

// The pledge of flat 5: the elevator paid directly, 楼道美化 by 2 hours of labour.
function pledge(fields = {}) {
  return {
    id: 1, plan: { id: 1, title: '3栋加装电梯出资方案', status: 'open', status_name: '认筹中' },
    flat_id: 5, room: '3栋1单元301', channel: 'online', channel_name: '线上签署',
    status: 'current', status_name: '有效（计入统计）',
    lines: [
      { item: 'elevator1', name: '1单元加装电梯', method: 'direct', method_name: '直接缴纳', amount_fen: 6601179, hours: null, note: '', due_fen: 6601179, paid_fen: 0 },
      { item: 'greening', name: '楼道美化', method: 'labour', method_name: '投工投劳', amount_fen: 6000, hours: 2, note: '', due_fen: 62500, paid_fen: 0 },
    ],
    total_fen: 6607179, receipt: '9XCFVAZB84NF', signed_at: '2026-11-28T11:54:29Z', confirmed_at: null,
    content_hash: '4c7ecbd0c19d3656e64858eb1a2f987c69373ca9773966e591208b03136260af',
    state: 'pledged', state_name: '已承诺·未缴', paid_fen: 0, refunded_fen: 0, payments: [],
    ...fields,
  }
}

const PAYMENT = {
  id: 1, kind: 'payment', kind_name: '缴款', amount_fen: 100000, allocation: { elevator1: 100000 }, method: 'direct',
  method_name: '直接缴纳', paid_on: '2026-11-20', reference: 'X1', has_photo: true, recorded_at: '2026-11-28T11:54:29Z',
}

// GET /plans/1?flat_id=5 for someone bound to flat 5 as relation (owner, family, tenant).
function forFlat(relation = 'owner', thePledge = null, fields = {}) {
  return plan({
    flat: {
      flat_id: 5, room: '3栋1单元301', area: '84.00', floor: 3, due_fen: 6663679,
      items: [
        { item: 'elevator1', name: '1单元加装电梯', required: true, amount_fen: 6601179, weight: '67.2', explanation: ELEVATOR_EXPLANATION },
        { item: 'greening', name: '楼道美化', required: false, amount_fen: 62500, weight: '1', explanation: GREENING_EXPLANATION },
      ],
      relation, pledged: !!thePledge,
      cannot_pledge: relation === 'owner' || relation === 'proxy' ? null : '只有业主本人可以签署出资承诺；家庭成员和租户可以查看应缴金额',
      signing_for: relation === 'proxy' ? { proxy_id: 3, number: 'WTK7M2Q9XPLA', owner: '王*' } : null,
      pledge: thePledge && (relation === 'owner' || relation === 'staff' || relation === 'proxy') ? thePledge : null,
      state: thePledge ? thePledge.state : 'none', state_name: thePledge ? thePledge.state_name : '未承诺',
      paid_fen: thePledge ? thePledge.paid_fen : 0,
    },
    ...fields,
  })
}

const RECEIPT = { id: 1, receipt: '9XCFVAZB84NF', status: 'current', status_name: '有效（计入统计）', total_fen: 6601179 }

// GET /plans/1/tally while open: one flat pledged; both parts of the rule short.
function tally(fields = {}) {
  return {
    plan: { id: 1, status: 'open', digest: '7542e07a79b8fac045a3ea9bf10b4b89b0c1cf4d7558a4c500f6ba2ab6a45080' },
    target_fen: 41000001, required_target_fen: 40000000,
    totals: { due_fen: 41000001, pledged_fen: 6607179, paid_fen: 0, refunded_fen: 0, net_paid_fen: 0 },
    items: [
      { key: 'elevator1', name: '1单元加装电梯', required: true, cost_fen: 60000000, subsidy_fen: 20000000, share_fen: 40000000, pledged_fen: 6601179, paid_fen: 0, flats_pledging: 1, missing_fen: 33398821 },
      { key: 'greening', name: '楼道美化', required: false, cost_fen: 1000001, subsidy_fen: 0, share_fen: 1000001, pledged_fen: 6000, paid_fen: 0, flats_pledging: 1, missing_fen: 994001 },
    ],
    methods: [
      { method: 'direct', name: '直接缴纳', pledged_fen: 6601179, paid_fen: 0 },
      { method: 'provident_fund', name: '住房公积金', pledged_fen: 0, paid_fen: 0 },
      { method: 'labour', name: '投工投劳', pledged_fen: 6000, paid_fen: 0 },
    ],
    buildings: [{
      id: 1, name: '3栋', due_fen: 41000001, pledged_fen: 6607179, paid_fen: 0, flats: 16, flats_pledging: 1,
      units: [
        { id: 1, name: '1单元', due_fen: 40500001, pledged_fen: 6607179, paid_fen: 0, flats: 8, flats_pledging: 1 },
        { id: 2, name: '2单元', due_fen: 500000, pledged_fen: 0, paid_fen: 0, flats: 8, flats_pledging: 0 },
      ],
    }],
    flats: { total: 16, liable: 16, pledging: 1, paid: 0 },
    persons: { total: 16, pledging: 1 },
    area: { total: '1400.00', pledging: '84.00' },
    funding_rule: { required_items: true, min_flat_share: '2/3', required_flat_ids: [] },
    parts: [
      { part: 'required_items', met: false, text: '每个必选项目的承诺金额不低于居民分摊额', missing: '「1单元加装电梯」还差 333,988.21 元' },
      { part: 'min_flat_share', met: false, text: '承诺户数不少于应分摊户数的 2/3（11 户）', missing: '还差 10 户承诺（已 1 户，需 11 户）' },
    ],
    funded: false,
    still_missing: ['「1单元加装电梯」还差 333,988.21 元', '还差 10 户承诺（已 1 户，需 11 户）'],
    outcome: null, refunds_due: [],
    ...fields,
  }
}

const PENDING = [
  { flat_id: 3, room: '3栋1单元201', floor: 2, area: '82.00', due_fen: 4895506, developer_held: false, owner: { name: '业**', phone: '139****0007' } },
  { flat_id: 7, room: '3栋1单元401', floor: 4, area: '86.00', due_fen: 8510437, developer_held: false, owner: { name: '业***', phone: '139****0015' } },
  { flat_id: 9, room: '3栋2单元101', floor: 1, area: '88.00', due_fen: 62500, developer_held: true, owner: null },
]

// GET /plans/1?flat_id=7 for staff: flat 7 (4th floor) has no pledge.
function staffForFlat7() {
  return plan({
    flat: {
      flat_id: 7, room: '3栋1单元401', area: '86.00', floor: 4, due_fen: 8510437,
      items: [
        { item: 'elevator1', name: '1单元加装电梯', required: true, amount_fen: 8447937, weight: '86', explanation: '专有面积 86.00 m² × 4 层系数 1 = 权重 86；…' },
        { item: 'greening', name: '楼道美化', required: false, amount_fen: 62500, weight: '1', explanation: GREENING_EXPLANATION },
      ],
      relation: 'staff', pledged: false, cannot_pledge: '工作人员请录入纸质承诺', pledge: null, state: 'none', state_name: '未承诺', paid_fen: 0,
    },
  })
}

// A paper pledge entered for flat 7, waiting for a second staff member.
function paperPledge(fields = {}) {
  return pledge({
    id: 2, flat_id: 7, room: '3栋1单元401', channel: 'paper', channel_name: '纸质承诺书',
    status: 'unconfirmed', status_name: '纸质承诺待第二名工作人员确认',
    lines: [{ item: 'elevator1', name: '1单元加装电梯', method: 'direct', method_name: '直接缴纳', amount_fen: 8447937, hours: null, note: '', due_fen: 8447937, paid_fen: 0 }],
    total_fen: 8447937, receipt: 'PSPCFVGT597P', content_hash: 'bff920fabf952f635ac25cffe9081b563ef148565142074c9cbfc28d3b25f430',
    state: null, state_name: '该承诺已不再计入',
    ...fields,
  })
}

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

function refused(status, code, message, details = {}) {
  return () => ({ status, body: { error: { code, message, details } } })
}

module.exports = {
  ITEMS, ROUNDING, ELEVATOR_EXPLANATION, GREENING_EXPLANATION, PAYMENT, RECEIPT, PENDING,
  plan, pledge, forFlat, tally, staffForFlat7, paperPledge, answer, refused,
}
