// Notices: the resident's inbox, and staff writing a notice to a scope of their own.
const { request } = require('../utils/request')

module.exports = {
  inbox: () => request({ path: '/inbox' }),
  markRead: (itemId) => request({ path: '/inbox/' + itemId + '/read', method: 'POST' }),
  markAllRead: () => request({ path: '/inbox/read-all', method: 'POST' }),
  // staff
  scopes: () => request({ path: '/notices/scopes' }),
  list: () => request({ path: '/notices' }),
  write: ({ scope, title, body, push }, idempotencyKey) =>
    request({ path: '/notices', method: 'POST', data: { scope, title, body, push: !!push }, idempotencyKey }),
}
