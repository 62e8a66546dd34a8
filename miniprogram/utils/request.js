// The one way pages reach the backend: adds the session token, signs in again once on a 401,
// sends an Idempotency-Key with every write (the same one when a write is retried after a network
// failure, so the backend records it once), and turns every failure into one shape in Chinese.
const config = require('../config/index')

const TOKEN_KEY = 'gongjian.token'
const NETWORK_MESSAGE = '网络不给力，请检查网络后重试'
const SERVER_MESSAGE = '服务暂时不可用，请稍后再试'
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE']

class ApiError extends Error {
  // status: HTTP status (0 when the network failed); code: the backend's machine code or 'network';
  // message: Chinese, ready to show; details: the backend's details.
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details || {}
  }
}

function newIdempotencyKey() {
  let key = ''
  for (let i = 0; i < 32; i += 1) key += Math.floor(Math.random() * 16).toString(16)
  return key
}

function getToken() {
  return wx.getStorageSync(TOKEN_KEY) || ''
}

function send(method, path, data, headers) {
  return new Promise((resolve) => {
    wx.request({
      url: config.apiBase() + path,
      method,
      data,
      header: { 'Content-Type': 'application/json', ...headers },
      timeout: config.requestTimeoutMs,
      success: (res) => resolve({ ok: true, status: res.statusCode, body: res.data }),
      fail: (err) => resolve({ ok: false, error: err }),
    })
  })
}

function toError(res) {
  if (!res.ok) return new ApiError(0, 'network', NETWORK_MESSAGE, {})
  const error = res.body && res.body.error
  if (error && error.message) return new ApiError(res.status, error.code || 'error', error.message, error.details)
  return new ApiError(res.status, 'server', SERVER_MESSAGE, {})
}

let signingIn = null // one sign-in at a time, shared by every request that met a 401

function login() {
  if (!signingIn) {
    signingIn = new Promise((resolve, reject) => {
      wx.login({
        success: ({ code }) => resolve(code),
        fail: () => reject(new ApiError(0, 'wx_login', '微信登录失败，请稍后重试', {})),
      })
    })
      .then((code) => send('POST', '/auth/login', { code }, {}))
      .then((res) => {
        if (!res.ok || res.status !== 200) throw toError(res)
        const data = res.body.data
        wx.setStorageSync(TOKEN_KEY, data.token)
        return data
      })
      .finally(() => {
        signingIn = null
      })
  }
  return signingIn
}

// request({path, method, data, idempotencyKey, auth}) → the answer's `data`, or throws ApiError.
// A page that lets the person retry a failed write passes the same idempotencyKey again.
async function request({ path, method = 'GET', data, idempotencyKey, auth = true }) {
  method = method.toUpperCase()
  const headers = {}
  if (WRITES.includes(method)) headers['Idempotency-Key'] = idempotencyKey || newIdempotencyKey()
  if (auth && !getToken()) await login()
  let relogged = false
  let retries = config.networkRetries
  for (;;) {
    if (auth) headers.Authorization = 'Bearer ' + getToken()
    const res = await send(method, path, data, headers)
    if (!res.ok) {
      if (retries > 0) {
        retries -= 1
        continue // same headers: the same Idempotency-Key
      }
      throw toError(res)
    }
    if (res.status === 401 && auth && !relogged) {
      relogged = true
      wx.removeStorageSync(TOKEN_KEY)
      await login()
      continue
    }
    if (res.status >= 200 && res.status < 300) return res.body ? res.body.data : null
    throw toError(res)
  }
}

function fetchFile(path) {
  return new Promise((resolve) => {
    wx.downloadFile({
      url: config.apiBase() + path,
      header: { Authorization: 'Bearer ' + getToken() },
      timeout: config.requestTimeoutMs,
      success: (res) => resolve({ ok: true, status: res.statusCode, file: res.tempFilePath }),
      fail: (err) => resolve({ ok: false, error: err }),
    })
  })
}

// download(path) → a temporary file path of what the backend answers (a photo, a PDF), with the
// same session token and the same one re-login on 401; failures in the one error shape.
async function download(path) {
  if (!getToken()) await login()
  let res = await fetchFile(path)
  if (res.ok && res.status === 401) {
    wx.removeStorageSync(TOKEN_KEY)
    await login()
    res = await fetchFile(path)
  }
  if (!res.ok) throw new ApiError(0, 'network', NETWORK_MESSAGE, {})
  if (res.status === 404) throw new ApiError(404, 'not_found', '没有找到该文件', {})
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, 'server', SERVER_MESSAGE, {})
  return res.file
}

module.exports = { request, download, login, ApiError, newIdempotencyKey, getToken, TOKEN_KEY, NETWORK_MESSAGE }
