// Written proxies (委托书): an owner grants and revokes; a grid worker enters a paper one that a second
// staff member confirms; the holder and the owner list theirs.
const { request, download } = require('../utils/request')

module.exports = {
  // without flatId: the proxies I hold and those granted for flats I own; with it: that flat's
  list: (flatId) => request({ path: '/proxies' + (flatId ? '?flat_id=' + flatId : '') }),
  grant: ({ flatId, proxyUserId, proxyName, scope, signature }, idempotencyKey) =>
    request({
      path: '/proxies',
      method: 'POST',
      data: { flat_id: flatId, proxy_user_id: proxyUserId, proxy_name: proxyName, scope, signature },
      idempotencyKey,
    }),
  revoke: (id) => request({ path: '/proxies/' + id + '/revoke', method: 'POST' }),
  // staff
  enterPaper: ({ flatId, proxyUserId, proxyName, scope, photo }, idempotencyKey) =>
    request({
      path: '/proxies/paper',
      method: 'POST',
      data: { flat_id: flatId, proxy_user_id: proxyUserId, proxy_name: proxyName, scope, photo },
      idempotencyKey,
    }),
  confirm: (id) => request({ path: '/proxies/' + id + '/confirm', method: 'POST' }),
  photo: (id) => download('/proxies/' + id + '/photo'), // → a temporary file path
}
