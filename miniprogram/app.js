// 共建 mini-program: signs in on launch; pages load their own data through services/*.js.
const { login, getToken } = require('./utils/request')

App({
  globalData: { user: null },
  onLaunch() {
    if (!getToken()) login().catch(() => {}) // a page that needs the session signs in again itself
  },
})
