// Signing the office PC's console in: scan its QR code, see which console and which roles, confirm
// once; an expired or used code, a resident and a code that is not the console's are told so.
const { open, text, tap, find, expectLargeType } = require('../helpers')

const TICKET = 'Xy7_kP2mQ9rT4vW8zA1bC3dE5fG6hJ0k'
const SEEN = {
  console: { name: '共建管理台', client: 'Chrome · 10.0.0.8' },
  created_at: '2026-11-28T06:00:00Z',
  expires_at: '2026-11-28T06:02:00Z',
  state: 'waiting',
  state_name: '等待确认',
  roles: [{ role: 'community_staff', role_name: '社区工作人员', scope: { type: 'community', id: 3, name: '阳光社区' } }],
}

function answer(data, status = 200) {
  return () => ({ status, body: { data } })
}

function refuse(status, code, message) {
  return () => ({ status, body: { error: { code, message, details: {} } } })
}

function scanned(result) {
  wx.scanCode = jest.fn((o) => o.success({ result, scanType: 'QR_CODE' }))
}

afterEach(() => jest.restoreAllMocks())

test('a scanned console code shows the console, the time and the roles, and confirming signs it in', async () => {
  scanned('gongjian-console:' + TICKET)
  wxFake.route('GET', '/console-tickets/' + TICKET, answer(SEEN))
  wxFake.route('POST', '/console-tickets/' + TICKET + '/confirm', answer({ ...SEEN, state: 'confirmed', state_name: '已确认' }))
  const page = await open('pages/staff/console-login/index')
  const shown = text(page)
  expect(shown).toContain('登录电脑上的共建管理台？')
  expect(shown).toContain('请求登录的电脑：Chrome · 10.0.0.8')
  expect(shown).toContain('二维码生成于 2026-11-28 14:00，2026-11-28 14:02 前有效')
  expect(shown).toContain('· 社区工作人员（阳光社区）')
  await tap(page, '.confirm')
  expect(wxFake.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/console-tickets/' + TICKET + '/confirm'])
  expect(wxFake.toasts).toEqual(['已登录'])
  expect(text(page)).toContain('✓ 电脑上的管理台已登录')
  expect(find(page, '.confirm')).toBeFalsy()
})

test('a ticket given in the page query is looked up without scanning', async () => {
  wx.scanCode = jest.fn()
  wxFake.route('GET', '/console-tickets/' + TICKET, answer(SEEN))
  const page = await open('pages/staff/console-login/index', { ticket: TICKET })
  expect(wx.scanCode).not.toHaveBeenCalled()
  expect(text(page)).toContain('请求登录的电脑')
})

test('a code that is not the console\'s is refused before any request', async () => {
  scanned('https://example.cn/s/b1')
  const page = await open('pages/staff/console-login/index')
  expect(wxFake.calls).toEqual([])
  expect(text(page)).toContain('这不是管理台的登录二维码')
})

test('an expired code says so, and a late confirmation shows the backend\'s message', async () => {
  scanned('gongjian-console:' + TICKET)
  wxFake.route('GET', '/console-tickets/' + TICKET, answer({ ...SEEN, state: 'expired', state_name: '已过期' }))
  const page = await open('pages/staff/console-login/index')
  expect(text(page)).toContain('该登录二维码已过期，请在电脑上刷新后重新扫码')
  expect(find(page, '.confirm')).toBeFalsy()

  scanned('gongjian-console:' + TICKET)
  wxFake.route('GET', '/console-tickets/' + TICKET, answer(SEEN))
  wxFake.route('POST', '/console-tickets/' + TICKET + '/confirm',
    refuse(410, 'ticket_expired', '登录二维码已过期，请在电脑上刷新后重新扫码'))
  const again = await open('pages/staff/console-login/index')
  await tap(again, '.confirm')
  expect(text(again)).toContain('⚠ 登录二维码已过期，请在电脑上刷新后重新扫码')
})

test('a resident is told the console is for staff', async () => {
  scanned('gongjian-console:' + TICKET)
  wxFake.route('GET', '/console-tickets/' + TICKET, refuse(403, 'forbidden', '仅限工作人员登录管理台'))
  const page = await open('pages/staff/console-login/index')
  expect(text(page)).toContain('仅限工作人员登录管理台')
})

test('large type', async () => {
  scanned('gongjian-console:' + TICKET)
  wxFake.route('GET', '/console-tickets/' + TICKET, answer(SEEN))
  const page = await open('pages/staff/console-login/index')
  await expectLargeType(page)
})
