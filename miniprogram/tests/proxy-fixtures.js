// Answers of the written-proxy endpoints (委托书, issue 15), shaped as the backend gives them
// (app/api/proxies.py proxy_views): shared by the tests of the 委托 page, the consultation page and
// the staff pages.
const FLAT = {
  id: 312, room: '102', floor: 1, unit: { id: 6, name: '2单元' }, building: { id: 3, name: '3号楼' },
  compound: { id: 1, name: '阳光里小区' }, label: '阳光里小区 3号楼2单元102',
}

function proxy(overrides = {}) {
  return {
    id: 5, number: 'WT7K3M9Q', flat: FLAT, owner: '王*', proxy: { user_id: 9, name: '李*' },
    scope: { type: 'consultation', type_name: '仅限一次征询', id: 7, title: '3号楼2单元加装电梯' },
    channel: 'online', channel_name: '业主线上签署', status: 'active', status_name: '有效',
    created_at: '2026-11-29T02:05:00Z', confirmed_at: '2026-11-29T02:05:00Z', revoked_at: null,
    role: 'owner', can_revoke: true,
    ...overrides,
  }
}

function binding(relation = 'owner', overrides = {}) {
  return {
    id: 41, relation, relation_name: { owner: '业主', family: '家庭成员', tenant: '租户' }[relation],
    status: 'approved', status_name: '已绑定', reason: null, created_at: '2026-11-28T09:51:29Z',
    level: 1, level_name: '名册核验', level_at: null, flat: FLAT, ...overrides,
  }
}

function me(bindings = [binding()], id = 8, roles = []) {
  return { user: { id, name: null, phone: null, roles: roles.map((r) => r.role) }, bindings, roles }
}

const answer = (data, status = 200) => () => ({ status, body: { data } })
const refused = (status, code, message, details = {}) => () => ({ status, body: { error: { code, message, details } } })

module.exports = { FLAT, proxy, binding, me, answer, refused }
