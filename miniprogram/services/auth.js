// Who am I: the signed-in user, the flats bound, the staff roles with their scopes.
const { request, login } = require('../utils/request')

module.exports = {
  login,
  me: () => request({ path: '/me' }),
  logout: (everywhere = false) => request({ path: '/auth/logout' + (everywhere ? '?all=1' : ''), method: 'POST' }),
  verifyPhone: (code) => request({ path: '/auth/phone', method: 'POST', data: { code } }),
}
