// The acceptance for representatives: the state (representatives, signatures, what is still needed,
// defects), signing an opinion with a signature (a fail lists its defects), the Idempotency-Key kept
// on a retry, refusals as the backend words them; residents only read.
const { open, text, tap, find, settle, expectLargeType } = require('../helpers')
const fx = require('../project-fixtures')

const { ids } = fx
const PATH = `/projects/${ids.project}/acceptance`
const OPTIONS = { project_id: String(ids.project) }

function signs() {
  return wxFake.calls.filter((c) => c.method === 'POST' && c.path === PATH)
}

async function draw(page) {
  const pad = find(page, '.signature').querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [{ x: 20, y: 80 }] })
  pad.dispatchEvent('touchmove', { touches: [{ x: 90, y: 30 }] })
  pad.dispatchEvent('touchend', {})
  await settle()
}

// A representative fails the acceptance with two defects and a remark, as the scripted one did.
async function failWithDefects(page) {
  await tap(page, '.opinion-fail')
  page.instance.inputDefect({ currentTarget: { dataset: { index: 0 } }, detail: { value: '2栋屋面有两处渗水' } })
  await settle()
  await tap(page, '.add-defect')
  page.instance.inputDefect({ currentTarget: { dataset: { index: 1 } }, detail: { value: ' 1单元楼道扶手松动 ' } })
  await settle()
  page.instance.inputRemarks({ detail: { value: '整改后请再通知验收' } })
  await settle()
  await draw(page)
}

test('a representative who may sign: the state, the rule and what is still needed', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  const page = await open('pages/acceptance/index', OPTIONS)
  const shown = text(page)
  expect(find(page, '.verdict').dom.textContent).toContain('⋯ 还需 2 位居民代表签署通过（共 3 位，已通过 0 位，尚未签署 3 位）')
  expect(shown).toContain('通过规则：超过 1/2 的居民代表签署通过（含附意见通过）')
  expect(shown).toContain('居民代表 3 位：冯**、宋**、韩**；已签署 0 位')
  expect(shown).toContain('签署通过 0 位，需 2 位，还差 2 位')
  expect(shown).toContain('还没有居民代表签署。')
  expect(page.querySelectorAll('.opinion').map((n) => n.dom.textContent.trim())).toEqual(['○ 通过', '○ 通过（附意见）', '○ 不通过（列出缺陷）'])
  expect(find(page, '.submit').dom.textContent).toContain('签名后才能提交')
})

test('signing a fail with its defects: sent once with a key; the answer shows the signature and the open defects', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  wxFake.route('POST', PATH, fx.reply('acceptance_signed_fail'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await failWithDefects(page)
  expect(find(page, '.opinion-fail').dom.textContent.trim()).toBe('◉ 不通过（列出缺陷）')
  await tap(page, '.submit')
  expect(signs()).toHaveLength(1)
  const sent = fx.request('acceptance_signed_fail')
  expect(signs()[0].data).toEqual({ ...sent, signature: 'aGVsbG8=' })
  expect(signs()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f]{32}$/)
  const shown = text(page)
  expect(find(page, '.done').dom.textContent).toContain('✓ 您的验收意见已签署提交')
  expect(find(page, '.form')).toBeFalsy()
  expect(find(page, '.signed-already')).toBeTruthy()
  expect(page.querySelectorAll('.sig-title').map((n) => n.dom.textContent.trim())).toEqual([
    '宋**：✓ 通过（附意见）', '冯**：✗ 不通过（我）',
  ])
  expect(shown).toContain('1. 2栋屋面有两处渗水')
  expect(shown).toContain('2. 1单元楼道扶手松动')
  expect(page.querySelectorAll('.open-defect').map((n) => n.dom.textContent.trim())).toEqual([
    '⚠ 待整改：2栋屋面有两处渗水', '⚠ 待整改：1单元楼道扶手松动',
  ])
  expect(find(page, '.verdict').dom.textContent).toContain('还需 1 位居民代表签署通过')
})

test('what the backend would refuse is said before sending: no opinion, a fail without defects, remarks missing', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await draw(page)
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 请选择验收意见')
  await tap(page, '.opinion-fail')
  page.instance.inputDefect({ currentTarget: { dataset: { index: 0 } }, detail: { value: '   ' } })
  await settle()
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 选择“不通过”时，请逐条写下缺陷（每行一条）')
  await tap(page, '.opinion-pass_with_remarks')
  expect(find(page, '.defect-input')).toBeFalsy()
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('请在意见栏写下您的意见')
  expect(signs()).toHaveLength(0)
})

test('a defect line added by mistake is taken away again', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await tap(page, '.opinion-fail')
  await tap(page, '.add-defect')
  await tap(page, '.add-defect')
  expect(page.querySelectorAll('.defect-input')).toHaveLength(3)
  page.querySelectorAll('.remove-defect')[1].dispatchEvent('tap')
  await settle()
  expect(page.querySelectorAll('.defect-input')).toHaveLength(2)
})

test('a network failure keeps opinion and signature and sends them again with the same key', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  wxFake.route('POST', PATH, () => 'fail')
  const page = await open('pages/acceptance/index', OPTIONS)
  await failWithDefects(page)
  await tap(page, '.submit')
  expect(find(page, '.failure').dom.textContent).toContain('⚠ 网络不给力，请检查网络后重试')
  expect(find(page, '.failure').dom.textContent).toContain('您的意见和签名都还在')
  wxFake.route('POST', PATH, fx.reply('acceptance_signed_fail'))
  await tap(page, '.submit')
  expect(find(page, '.done')).toBeTruthy()
  expect(new Set(signs().map((c) => c.header['Idempotency-Key'])).size).toBe(1)
  expect(new Set(signs().map((c) => JSON.stringify(c.data))).size).toBe(1)
})

test('signed already (409): the backend\'s refusal is shown and the form goes', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  wxFake.route('POST', PATH, fx.reply('acceptance_already_signed'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await tap(page, '.opinion-pass')
  await draw(page)
  await tap(page, '.submit')
  expect(find(page, '.refusal').dom.textContent).toContain('⚠ 您已签署过本项目的验收，每位居民代表只签署一次')
  expect(find(page, '.form')).toBeFalsy()
})

test('a fail the backend still refuses (422) is said on the form', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  wxFake.route('POST', PATH, fx.reply('acceptance_fail_no_defects'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await failWithDefects(page)
  await tap(page, '.submit')
  expect(find(page, '.form-error').dom.textContent).toContain('⚠ 不通过时请逐条列出缺陷')
  expect(find(page, '.form')).toBeTruthy()
})

test('a resident reads the acceptance but signs nothing', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_resident'))
  const page = await open('pages/acceptance/index', OPTIONS)
  expect(find(page, '.form')).toBeFalsy()
  expect(find(page, '.not-representative').dom.textContent).toContain('验收由本小区的居民代表签署')
})

test('passed: the verdict, every signature, a defect resolved with its note and one still open', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_passed'))
  const page = await open('pages/acceptance/index', OPTIONS)
  const shown = text(page)
  expect(find(page, '.verdict').dom.textContent).toContain('✓ 验收已通过：3 位居民代表中 2 位签署通过')
  expect(shown).toContain('签署通过 2 位，需 2 位')
  expect(shown).not.toContain('还差')
  expect(page.querySelectorAll('.sig-title')).toHaveLength(3)
  expect(find(page, '.resolved-defect').dom.textContent).toContain('✓ 2栋屋面有两处渗水')
  expect(shown).toContain('已整改（2026年4月20日 10:')
  expect(shown).toContain('：已重做防水层，雨后复查无渗水')
  expect(find(page, '.open-defect').dom.textContent).toContain('⚠ 待整改：1单元楼道扶手松动')
  expect(find(page, '.signed-already')).toBeTruthy()
})

test('a failure shows the message and a retry that loads again', async () => {
  wxFake.route('GET', PATH, () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到该改造项目', details: {} } } }))
  const page = await open('pages/acceptance/index', OPTIONS)
  expect(text(page)).toContain('⚠ 没有找到该改造项目')
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  await tap(page, '.retry')
  expect(find(page, '.form')).toBeTruthy()
})

test('in large type every text of the page reads at least 18px', async () => {
  wxFake.route('GET', PATH, fx.reply('acceptance_open'))
  const page = await open('pages/acceptance/index', OPTIONS)
  await tap(page, '.opinion-fail')
  expect(await expectLargeType(page)).toBeGreaterThan(12)
  wxFake.route('GET', PATH, fx.reply('acceptance_passed'))
  const passed = await open('pages/acceptance/index', OPTIONS)
  expect(await expectLargeType(passed)).toBeGreaterThan(12)
})
