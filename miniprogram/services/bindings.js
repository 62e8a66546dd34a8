// Finding one's building and flat, proving it is one's own, and the grid worker's side of it.
const { request } = require('../utils/request')

module.exports = {
  scan: (scene) => request({ path: '/scan/' + encodeURIComponent(scene) }),
  bind: ({ flatId, relation, name, phoneLast4 }, idempotencyKey) =>
    request({
      path: '/bindings',
      method: 'POST',
      data: { flat_id: flatId, relation, name, phone_last4: phoneLast4 || null },
      idempotencyKey,
    }),
  get: (id) => request({ path: '/bindings/' + id }),
  unbind: (id, reason) => request({ path: '/bindings/' + id, method: 'DELETE', data: { reason: reason || null } }),
  // staff
  list: (status = 'pending') => request({ path: '/bindings?status=' + status }),
  approve: (id) => request({ path: '/bindings/' + id + '/approve', method: 'POST' }),
  confirmInPerson: (id) => request({ path: '/bindings/' + id + '/confirm-in-person', method: 'POST' }),
  reject: (id, reason) => request({ path: '/bindings/' + id + '/reject', method: 'POST', data: { reason } }),
  lockedFlats: () => request({ path: '/bindings/locked-flats' }),
  unlockFlat: (flatId, reason) => request({ path: '/flats/' + flatId + '/unlock', method: 'POST', data: { reason: reason || null } }),
}
