// A fake `wx` and `getApp` for pages and components loaded by miniprogram-simulate (which provides
// Component and Behavior only). Tests steer it through global.wxFake:
//   wxFake.route(method, path, handler)  answers wx.request: handler(req) → {status, body} | 'fail'
//   wxFake.calls                         every wx.request made: {method, path, url, data, header}
//   wxFake.storage                       what wx.setStorageSync stored
//   wxFake.documents                     every wx.openDocument: {filePath, fileType}
const path = require('path')
const contract = require('./contract')

function makeFake() {
  const fake = {
    routes: [],
    calls: [],
    storage: new Map(),
    loginCodes: 0,
    navigations: [],
    toasts: [],
    phoneCalls: [],
    documents: [],
    contractProblems: [], // requests and faked answers the backend's OpenAPI document does not allow
    route(method, pattern, handler) {
      fake.routes.unshift({ method: method.toUpperCase(), pattern, handler })
    },
    reset() {
      fake.routes = []
      fake.calls = []
      fake.storage = new Map()
      fake.loginCodes = 0
      fake.navigations = []
      fake.toasts = []
      fake.phoneCalls = []
      fake.documents = []
      fake.contractProblems = []
      // A session is in place unless a test removes it.
      fake.storage.set('gongjian.token', 'token-0')
      fake.route('POST', '/auth/login', () => ({ status: 200, body: { data: { token: 'token-' + fake.loginCodes, user: { id: 1, roles: [] }, bindings: [] } } }))
    },
  }
  return fake
}

const wxFake = makeFake()
global.wxFake = wxFake

function match(pattern, p) {
  return typeof pattern === 'string' ? pattern === p : pattern.test(p)
}

global.wx = {
  request(options) {
    const url = options.url
    const p = url.replace(/^https?:\/\/[^/]+\/api\/v1/, '')
    const req = { method: (options.method || 'GET').toUpperCase(), path: p, url, data: options.data, header: options.header || {} }
    wxFake.calls.push(req)
    const route = wxFake.routes.find((r) => r.method === req.method && match(r.pattern, p.split('?')[0]) || (r.method === req.method && match(r.pattern, p)))
    if (!contract.operationFor(req.method, p)) {
      wxFake.contractProblems.push(`${req.method} ${p}: no such operation in the backend's OpenAPI document`)
    }
    setTimeout(() => {
      if (!route) {
        options.success && options.success({ statusCode: 404, data: { error: { code: 'not_found', message: '未找到该对象', details: {} } } })
        return
      }
      const answer = route.handler(req)
      if (answer === 'fail') {
        options.fail && options.fail({ errMsg: 'request:fail timeout' })
        return
      }
      wxFake.contractProblems.push(...contract.checkAnswer(req.method, p, answer.status, answer.body))
      options.success && options.success({ statusCode: answer.status, data: answer.body })
    }, 0)
  },
  // Files (photos, PDFs): recorded like requests; a route's answer {status, file} or 'fail'.
  downloadFile(options) {
    const p = options.url.replace(/^https?:\/\/[^/]+\/api\/v1/, '')
    const req = { method: 'GET', path: p, url: options.url, data: null, header: options.header || {}, download: true }
    wxFake.calls.push(req)
    if (!contract.operationFor('GET', p)) {
      wxFake.contractProblems.push(`GET ${p}: no such operation in the backend's OpenAPI document`)
    }
    const route = wxFake.routes.find((r) => r.method === 'GET' && match(r.pattern, p))
    setTimeout(() => {
      const answer = route ? route.handler(req) : { status: 404 }
      if (answer === 'fail') options.fail && options.fail({ errMsg: 'downloadFile:fail' })
      else options.success && options.success({ statusCode: answer.status, tempFilePath: answer.file || '' })
    }, 0)
  },
  previewImage: (o) => { wxFake.navigations.push('preview:' + o.urls.join(',')) },
  openDocument: (o) => { wxFake.documents.push({ filePath: o.filePath, fileType: o.fileType }); o.success && o.success() },
  login(options) {
    wxFake.loginCodes += 1
    setTimeout(() => options.success({ code: 'code-' + wxFake.loginCodes }), 0)
  },
  getStorageSync: (k) => (wxFake.storage.has(k) ? wxFake.storage.get(k) : ''),
  setStorageSync: (k, v) => wxFake.storage.set(k, v),
  removeStorageSync: (k) => wxFake.storage.delete(k),
  getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop', appId: 'wxdev0000000000000' } }),
  navigateTo: (o) => { wxFake.navigations.push(o.url); o.success && o.success() },
  redirectTo: (o) => { wxFake.navigations.push(o.url); o.success && o.success() },
  navigateBack: () => { wxFake.navigations.push('back') },
  reLaunch: (o) => { wxFake.navigations.push(o.url); o.success && o.success() },
  showToast: (o) => { wxFake.toasts.push(o.title) },
  showModal: (o) => { wxFake.toasts.push(o.content); o.success && o.success({ confirm: true, cancel: false }) },
  showLoading: () => {},
  hideLoading: () => {},
  makePhoneCall: (o) => { wxFake.phoneCalls.push(o.phoneNumber) },
  scanCode: (o) => o.success && o.success({ path: 'pages/scan/index?scene=b1', result: '' }),
  chooseMedia: (o) => o.success && o.success({ tempFiles: [{ tempFilePath: '/tmp/photo.jpg', size: 1000 }] }),
  getFileSystemManager: () => ({ readFile: (o) => o.success && o.success({ data: 'aGVsbG8=' }) }),
  createSelectorQuery: () => {
    const q = {
      in: () => q,
      select: () => q,
      fields: () => q,
      boundingClientRect: () => q,
      exec: (cb) => cb && cb([{ node: null, width: 300, height: 150 }]),
    }
    return q
  },
  canvasToTempFilePath: (o) => o.success && o.success({ tempFilePath: '/tmp/signature.png' }),
  requestSubscribeMessage: (o) => o.success && o.success({}),
  setNavigationBarTitle: () => {},
  stopPullDownRefresh: () => {},
}

global.getApp = () => ({ globalData: {} })

// What a test may replace on wx for itself, put back before the next one.
const defaults = { ...global.wx }

beforeEach(() => {
  wxFake.reset()
  Object.assign(global.wx, defaults)
})

// Every request a test made, and every answer it faked, must be one the backend documents: a page
// cannot read a field the backend does not send, nor call a path it does not serve.
afterEach(() => {
  const problems = [...new Set(wxFake.contractProblems)]
  wxFake.contractProblems = []
  if (problems.length) throw new Error('contract with the backend broken:\n  ' + problems.join('\n  '))
})

global.MINIPROGRAM_ROOT = path.resolve(__dirname, '..')
