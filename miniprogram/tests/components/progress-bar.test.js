// The progress bar alone: its percentage in words, never rounded up; the bar clamped; the label.
const path = require('path')
const simulate = require('miniprogram-simulate')
const { ROOT, settle } = require('../helpers')

let id
beforeAll(() => {
  id = simulate.load(path.join(ROOT, 'components/progress-bar/index'), { rootPath: ROOT })
})

async function render(props) {
  const comp = simulate.render(id, props)
  comp.attach(document.createElement('parent-wrapper'))
  await settle()
  return comp
}

function fillWidth(comp) {
  return comp.querySelector('.progress-fill').dom.getAttribute('style')
}

test('shows the label and the percentage in words', async () => {
  const comp = await render({ value: 12, max: 18, label: '参与人数 12 / 18 人' })
  expect(comp.querySelector('.progress-label').dom.textContent).toBe('参与人数 12 / 18 人')
  expect(comp.querySelector('.progress-percent').dom.textContent).toBe('66.6%')
  expect(fillWidth(comp)).toMatch(/width: ?66\.6%/)
})

test('a share just short of all never reads 100%', async () => {
  const comp = await render({ value: 2099.99, max: 2100, label: '参与面积' })
  expect(comp.querySelector('.progress-percent').dom.textContent).toBe('99.9%')
  const whole = await render({ value: 2100, max: 2100 })
  expect(whole.querySelector('.progress-percent').dom.textContent).toBe('100%')
})

test('a share just short of three quarters does not read 75%', async () => {
  const comp = await render({ value: 1574.99, max: 2100 })
  expect(comp.querySelector('.progress-percent').dom.textContent).toBe('74.9%')
})

test('the bar is clamped to 0-100% while the words tell the truth', async () => {
  const over = await render({ value: 30, max: 20 })
  expect(over.querySelector('.progress-percent').dom.textContent).toBe('150%')
  expect(fillWidth(over)).toMatch(/width: ?100%/)
  const none = await render({ value: 5, max: 0 })
  expect(none.querySelector('.progress-percent').dom.textContent).toBe('0%')
  expect(fillWidth(none)).toMatch(/width: ?0%/)
  const negative = await render({ value: -3, max: 10 })
  expect(fillWidth(negative)).toMatch(/width: ?0%/)
})

test('follows new values and shows the threshold mark with its words', async () => {
  const comp = await render({ value: 1, max: 4, mark: 75, markLabel: '需 ≥ 3/4' })
  expect(comp.querySelector('.progress-percent').dom.textContent).toBe('25%')
  expect(comp.querySelector('.progress-mark').dom.getAttribute('style')).toMatch(/left: ?75%/)
  expect(comp.querySelector('.progress-mark-label').dom.textContent).toBe('需 ≥ 3/4')
  comp.setData({ value: 3 })
  await settle()
  expect(comp.querySelector('.progress-percent').dom.textContent).toBe('75%')
})
