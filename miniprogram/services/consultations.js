// Consultations: what a resident reads and signs, and what staff watch and enter.
const { request, download } = require('../utils/request')

module.exports = {
  // resident
  forFlat: (flatId) => request({ path: '/consultations?flat_id=' + flatId }),
  get: (id, flatId) => request({ path: '/consultations/' + id + (flatId ? '?flat_id=' + flatId : '') }),
  sign: (id, { flatId, choice, signature }, idempotencyKey) =>
    request({
      path: '/consultations/' + id + '/ballots',
      method: 'POST',
      data: { flat_id: flatId, choice, signature },
      idempotencyKey,
    }),
  results: (id, flatId) => request({ path: '/consultations/' + id + '/results' + (flatId ? '?flat_id=' + flatId : '') }),
  receipt: (code) => request({ path: '/receipts/' + encodeURIComponent(code), auth: false }),
  // staff
  list: () => request({ path: '/consultations' }),
  tally: (id) => request({ path: '/consultations/' + id + '/tally' }),
  pendingFlats: (id) => request({ path: '/consultations/' + id + '/pending-flats' }),
  paperBallots: (id) => request({ path: '/consultations/' + id + '/paper-ballots' }),
  enterPaper: (id, { flatId, choice, photo }, idempotencyKey) =>
    request({
      path: '/consultations/' + id + '/paper-ballots',
      method: 'POST',
      data: { flat_id: flatId, choice, photo },
      idempotencyKey,
    }),
  confirmPaper: (ballotId) => request({ path: '/paper-ballots/' + ballotId + '/confirm', method: 'POST' }),
  paperPhoto: (ballotId) => download('/paper-ballots/' + ballotId + '/photo'), // → a temporary file path
}
