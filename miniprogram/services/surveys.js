// Surveys (问卷): needs before a renovation, satisfaction after it. A resident answers for a bound
// flat (the flat's last answer counts); results once closed. Staff read results at any time after
// opening, download them, and release or reject the texts WeChat's check held.
const { request, download } = require('../utils/request')

module.exports = {
  // resident
  forFlat: (flatId) => request({ path: '/surveys?flat_id=' + flatId }),
  get: (id, flatId) => request({ path: '/surveys/' + id + (flatId ? '?flat_id=' + flatId : '') }),
  // answers: {question key: option key | [option keys] | 1-5 | text}
  respond: (id, { flatId, answers }, idempotencyKey) =>
    request({ path: '/surveys/' + id + '/responses', method: 'POST', data: { flat_id: flatId, answers }, idempotencyKey }),
  results: (id, flatId) => request({ path: '/surveys/' + id + '/results' + (flatId ? '?flat_id=' + flatId : '') }),
  // staff
  list: () => request({ path: '/surveys' }),
  held: (id) => request({ path: '/surveys/' + id + '/held' }),
  release: (responseId) => request({ path: '/survey-responses/' + responseId + '/release', method: 'POST' }),
  reject: (responseId, reason) =>
    request({ path: '/survey-responses/' + responseId + '/reject', method: 'POST', data: { reason } }),
  workbook: (id) => download('/surveys/' + id + '/results.xlsx'), // → a temporary file path
}
