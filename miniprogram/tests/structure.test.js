// What WeChat DevTools needs to open and upload the mini-program as it is: every page of app.json
// with its four files, every usingComponents target present, and the main package under 2 MB.
const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'))
const MAIN_PACKAGE_LIMIT = 2 * 1024 * 1024

const pages = [
  ...app.pages,
  ...(app.subpackages || app.subPackages || []).flatMap((sub) => sub.pages.map((p) => path.join(sub.root, p))),
]

test.each(pages)('page %s has its .js, .json, .wxml and .wxss', (page) => {
  for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
    expect(fs.existsSync(path.join(ROOT, page + ext))).toBe(true)
  }
})

// Every .json of a page or component, with the folder its relative paths start from.
function componentJsons(dir = ROOT) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return ['node_modules', 'tests', 'miniprogram_npm'].includes(entry.name) ? [] : componentJsons(full)
    return entry.name.endsWith('.json') && fs.existsSync(full.replace(/\.json$/, '.wxml')) ? [full] : []
  })
}

test('every usingComponents target exists (app.json, pages and components)', () => {
  const owners = [path.join(ROOT, 'app.json'), ...componentJsons()]
  const missing = []
  let checked = 0
  for (const file of owners) {
    const using = JSON.parse(fs.readFileSync(file, 'utf8')).usingComponents || {}
    for (const [tag, target] of Object.entries(using)) {
      const base = target.startsWith('/') ? path.join(ROOT, target) : path.resolve(path.dirname(file), target)
      checked += 1
      for (const ext of ['.js', '.json', '.wxml']) {
        if (!fs.existsSync(base + ext)) missing.push(`${path.relative(ROOT, file)}: <${tag}> → ${target}${ext}`)
      }
    }
  }
  expect(missing).toEqual([])
  expect(checked).toBeGreaterThan(1)
})

test('the main package stays under WeChat\'s 2 MB limit', () => {
  const ignored = project.packOptions.ignore.map((i) => i.value)
  function size(dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).reduce((total, entry) => {
      const rel = path.relative(ROOT, path.join(dir, entry.name))
      if (ignored.includes(rel) || ignored.includes(entry.name)) return total
      return total + (entry.isDirectory() ? size(path.join(dir, entry.name)) : fs.statSync(path.join(dir, entry.name)).size)
    }, 0)
  }
  const bytes = size(ROOT)
  expect(bytes).toBeGreaterThan(10 * 1024) // the pages are really counted
  expect(bytes).toBeLessThan(MAIN_PACKAGE_LIMIT)
})

test('every page\'s wxss brings the shared page styles (large type, 44px buttons)', () => {
  for (const page of pages) {
    const wxss = fs.readFileSync(path.join(ROOT, page + '.wxss'), 'utf8')
    expect(wxss).toMatch(/@import "(\.\.\/)+styles\/page\.wxss";/)
  }
})
