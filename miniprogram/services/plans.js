// Contribution plans (资金共筹): what a flat owes and why, an owner's signed pledge and its
// agreement; staff's tally, door visits, ledger, paper pledges, payments and refunds. Amounts in fen.
const { request, download } = require('../utils/request')

// lines: [{item, method, amount_fen, hours?}] as the backend takes them (PledgeLineIn).
function pledgeBody(flatId, lines, extra) {
  return Object.assign({ flat_id: flatId, lines: lines || [] }, extra)
}

// A payment or refund (PaymentIn): amountFen an integer, paidOn "YYYY-MM-DD", photo base64 or none.
function paymentBody({ amountFen, method, paidOn, reference, photo }) {
  return Object.assign({ amount_fen: amountFen, method, paid_on: paidOn, reference: reference || '' }, photo ? { photo } : {})
}

module.exports = {
  // resident
  forFlat: (flatId) => request({ path: '/plans?flat_id=' + flatId }),
  get: (id, flatId) => request({ path: '/plans/' + id + (flatId ? '?flat_id=' + flatId : '') }),
  pledge: (id, { flatId, lines, signature }, idempotencyKey) =>
    request({ path: '/plans/' + id + '/pledges', method: 'POST', data: pledgeBody(flatId, lines, { signature }), idempotencyKey }),
  mine: () => request({ path: '/pledges' }),
  agreement: (pledgeId) => download('/pledges/' + pledgeId + '/agreement.pdf'), // → a temporary file path
  // staff
  list: () => request({ path: '/plans' }),
  open: (id) => request({ path: '/plans/' + id + '/open', method: 'POST' }),
  close: (id) => request({ path: '/plans/' + id + '/close', method: 'POST' }),
  tally: (id) => request({ path: '/plans/' + id + '/tally' }),
  pendingFlats: (id) => request({ path: '/plans/' + id + '/pending-flats' }),
  ledger: (id) => download('/plans/' + id + '/ledger.xlsx'), // → a temporary file path
  paperPledges: (id) => request({ path: '/plans/' + id + '/paper-pledges' }),
  enterPaper: (id, { flatId, lines, photo }, idempotencyKey) =>
    request({ path: '/plans/' + id + '/paper-pledges', method: 'POST', data: pledgeBody(flatId, lines, { photo }), idempotencyKey }),
  confirmPaper: (pledgeId) => request({ path: '/paper-pledges/' + pledgeId + '/confirm', method: 'POST' }),
  paperPhoto: (pledgeId) => download('/paper-pledges/' + pledgeId + '/photo'), // → a temporary file path
  pledges: (id) => request({ path: '/plans/' + id + '/pledges' }),
  pay: (pledgeId, payment, idempotencyKey) =>
    request({ path: '/pledges/' + pledgeId + '/payments', method: 'POST', data: paymentBody(payment), idempotencyKey }),
  refund: (pledgeId, payment, idempotencyKey) =>
    request({ path: '/pledges/' + pledgeId + '/refunds', method: 'POST', data: paymentBody(payment), idempotencyKey }),
  paymentPhoto: (paymentId) => download('/payments/' + paymentId + '/photo'), // → a temporary file path
}
