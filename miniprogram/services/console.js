// The staff console's sign-in on a PC: what a scanned ticket is, and confirming it (api/console_tickets.py).
const { request } = require('../utils/request')

module.exports = {
  get: (ticket) => request({ path: '/console-tickets/' + encodeURIComponent(ticket) }),
  confirm: (ticket) => request({ path: '/console-tickets/' + encodeURIComponent(ticket) + '/confirm', method: 'POST' }),
}
