// Notices: the resident's inbox, and staff writing a notice to a scope of their own; a 公示's
// objections and opinions (a resident files one per flat during its period; staff answer them).
const { request, download } = require('../utils/request')

module.exports = {
  inbox: () => request({ path: '/inbox' }),
  markRead: (itemId) => request({ path: '/inbox/' + itemId + '/read', method: 'POST' }),
  markAllRead: () => request({ path: '/inbox/read-all', method: 'POST' }),
  // 公示: {notice, staff, objections, flats} (a resident: their own, and the flats they may still file for)
  objections: (noticeId) => request({ path: '/notices/' + noticeId + '/objections' }),
  object: (noticeId, { flatId, kind, text, photo }, idempotencyKey) =>
    request({
      path: '/notices/' + noticeId + '/objections', method: 'POST', idempotencyKey,
      data: Object.assign({ flat_id: flatId, kind, text }, photo ? { photo } : {}),
    }),
  answer: (objectionId, answer) => request({ path: '/objections/' + objectionId + '/answer', method: 'POST', data: { answer } }),
  photo: (objectionId) => download('/objections/' + objectionId + '/photo'), // → a temporary file path
  release: (objectionId) => request({ path: '/objections/' + objectionId + '/release', method: 'POST' }),
  reject: (objectionId, reason) => request({ path: '/objections/' + objectionId + '/reject', method: 'POST', data: { reason } }),
  // staff
  scopes: () => request({ path: '/notices/scopes' }),
  list: () => request({ path: '/notices' }),
  // a 公示: kind 'publicity' with period {start, end} (ISO times)
  write: ({ scope, title, body, push, kind, period }, idempotencyKey) =>
    request({
      path: '/notices', method: 'POST', idempotencyKey,
      data: Object.assign({ scope, title, body, push: !!push }, kind === 'publicity' ? { kind, period } : {}),
    }),
}
