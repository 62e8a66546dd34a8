// Loading a page or component as miniprogram-simulate sees it, and waiting for its requests.
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.resolve(__dirname, '..')

const loaded = new Map() // a path is registered once per test file; render it as often as needed

function load(page) {
  if (!loaded.has(page)) loaded.set(page, simulate.load(path.join(ROOT, page), { rootPath: ROOT }))
  return loaded.get(page)
}

// Render a page, call its onLoad with options, and wait until its requests have answered.
async function open(page, options = {}) {
  const id = load(page)
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  if (comp.instance.onLoad) comp.instance.onLoad(options)
  await settle()
  return comp
}

async function settle(rounds = 6) {
  for (let i = 0; i < rounds; i += 1) await simulate.sleep(0)
}

function text(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ')
}

// The first node matching selector in the page, or inside its state-view (a child component,
// whose nodes the page's querySelector does not reach).
function find(comp, selector) {
  const node = comp.querySelector(selector)
  if (node) return node
  const state = comp.querySelector('.state-view')
  return state ? state.querySelector(selector) : null
}

function tap(comp, selector) {
  const node = find(comp, selector)
  if (!node) throw new Error('nothing matches ' + selector)
  node.dispatchEvent('tap')
  return settle()
}

function px(node, property) {
  return parseFloat(window.getComputedStyle(node.dom)[property]) || 0
}

// 适老化: with large type on, every body text, hint, title and button of the page reads at least
// 18px and every button is at least 44px tall. Returns how many nodes were measured (a page with
// nothing measured fails: the classes are missing).
async function expectLargeType(comp) {
  comp.instance.setData({ large: true })
  await settle()
  expect(comp.querySelector('.page').dom.className).toMatch(/\blarge\b|--large\b/)
  let measured = 0
  for (const selector of ['.body', '.hint', '.title', '.btn']) {
    for (const node of comp.querySelectorAll(selector)) {
      const size = px(node, 'fontSize')
      if (size < 18) throw new Error(`${selector} "${node.dom.textContent.trim().slice(0, 20)}" is ${size}px in large type`)
      if (selector === '.btn' && px(node, 'minHeight') < 44) throw new Error(`${selector} is under 44px tall`)
      measured += 1
    }
  }
  expect(measured).toBeGreaterThan(0)
  return measured
}

module.exports = { load, open, settle, text, tap, find, expectLargeType, simulate, ROOT }
