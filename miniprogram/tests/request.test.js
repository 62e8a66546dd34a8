// The request helper alone: token, 401 re-login, the Idempotency-Key on writes and its reuse after a
// network failure, one error shape in Chinese.
const { request, ApiError, NETWORK_MESSAGE } = require('../utils/request')

test('adds the token and answers the data field', async () => {
  wxFake.route('GET', '/me', () => ({ status: 200, body: { data: { user: { id: 7 } } } }))
  const data = await request({ path: '/me' })
  expect(data).toEqual({ user: { id: 7 } })
  expect(wxFake.calls[0].header.Authorization).toBe('Bearer token-0')
  expect(wxFake.calls[0].url).toBe('http://127.0.0.1:5000/api/v1/me')
})

test('signs in once on a 401 and sends the request again with the new token', async () => {
  let seen = 0
  wxFake.route('GET', '/me', (req) => {
    seen += 1
    return req.header.Authorization === 'Bearer token-1'
      ? { status: 200, body: { data: { bindings: [] } } }
      : { status: 401, body: { error: { code: 'unauthorized', message: '请先登录', details: {} } } }
  })
  await expect(request({ path: '/me' })).resolves.toEqual({ bindings: [] })
  expect(seen).toBe(2)
  const login = wxFake.calls.filter((c) => c.path === '/auth/login')
  expect(login).toHaveLength(1)
  expect(login[0].data).toEqual({ code: 'code-1' })
  expect(wxFake.storage.get('gongjian.token')).toBe('token-1')
})

test('a second 401 after signing in again is an error, not a loop', async () => {
  wxFake.route('GET', '/me', () => ({ status: 401, body: { error: { code: 'unauthorized', message: '请先登录', details: {} } } }))
  await expect(request({ path: '/me' })).rejects.toMatchObject({ status: 401, code: 'unauthorized', message: '请先登录' })
  expect(wxFake.calls.filter((c) => c.path === '/auth/login')).toHaveLength(1)
})

test('signs in first when there is no token yet', async () => {
  wxFake.storage.delete('gongjian.token')
  wxFake.route('GET', '/me', () => ({ status: 200, body: { data: {} } }))
  await request({ path: '/me' })
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/auth/login', '/me'])
})

test('a write carries an Idempotency-Key and a network failure is retried with the same key', async () => {
  let attempts = 0
  wxFake.route('POST', /^\/consultations\/\d+\/ballots$/, () => {
    attempts += 1
    return attempts === 1 ? 'fail' : { status: 201, body: { data: { receipt: 'ABC' } } }
  })
  const data = await request({ path: '/consultations/3/ballots', method: 'POST', data: { choice: 'agree' } })
  expect(data).toEqual({ receipt: 'ABC' })
  const keys = wxFake.calls.map((c) => c.header['Idempotency-Key'])
  expect(keys).toHaveLength(2)
  expect(keys[0]).toMatch(/^[0-9a-f]{32}$/)
  expect(keys[1]).toBe(keys[0])
})

test('a key the page keeps is sent again when the person taps retry', async () => {
  wxFake.route('POST', '/bindings', () => 'fail')
  await expect(request({ path: '/bindings', method: 'POST', data: {}, idempotencyKey: 'k-1' }))
    .rejects.toMatchObject({ status: 0, code: 'network', message: NETWORK_MESSAGE })
  wxFake.route('POST', '/bindings', () => ({ status: 201, body: { data: { id: 1 } } }))
  await request({ path: '/bindings', method: 'POST', data: {}, idempotencyKey: 'k-1' })
  expect(new Set(wxFake.calls.map((c) => c.header['Idempotency-Key']))).toEqual(new Set(['k-1']))
})

test('reads carry no Idempotency-Key', async () => {
  wxFake.route('GET', '/me', () => ({ status: 200, body: { data: {} } }))
  await request({ path: '/me' })
  expect(wxFake.calls[0].header['Idempotency-Key']).toBeUndefined()
})

test('every failure has one shape with a Chinese message', async () => {
  wxFake.route('POST', '/bindings', () => ({ status: 429, body: { error: { code: 'flat_locked', message: '该房屋已被锁定', details: { a: 1 } } } }))
  const error = await request({ path: '/bindings', method: 'POST', data: {} }).catch((e) => e)
  expect(error).toBeInstanceOf(ApiError)
  expect(error).toMatchObject({ status: 429, code: 'flat_locked', message: '该房屋已被锁定', details: { a: 1 } })
  wxFake.route('GET', '/me', () => ({ status: 502, body: '<html>bad gateway</html>' }))
  await expect(request({ path: '/me' })).rejects.toMatchObject({ status: 502, code: 'server', message: '服务暂时不可用，请稍后再试' })
})

test('a file comes down with the token, and a 401 signs in once and fetches it again', async () => {
  const { download } = require('../utils/request')
  wxFake.route('GET', /^\/paper-ballots\/\d+\/photo$/, (req) =>
    req.header.Authorization === 'Bearer token-1' ? { status: 200, file: '/tmp/photo-9.jpg' } : { status: 401 })
  await expect(download('/paper-ballots/9/photo')).resolves.toBe('/tmp/photo-9.jpg')
  expect(wxFake.calls.map((c) => c.path)).toEqual(['/paper-ballots/9/photo', '/auth/login', '/paper-ballots/9/photo'])
  wxFake.route('GET', /^\/paper-ballots\/\d+\/photo$/, () => ({ status: 404 }))
  await expect(download('/paper-ballots/9/photo')).rejects.toMatchObject({ status: 404, message: '没有找到该文件' })
})
