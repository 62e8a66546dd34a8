// The answers issue 12's page tests are served (tests/fixtures/issue12.json, captured from the
// backend by tests/fixtures/capture_issue12.py) against the backend's OpenAPI document: every
// success fits its operation's schema, every refusal is the one error shape with a Chinese message.
const contract = require('./contract')
const captured = require('./fixtures/issue12.json')

const answers = Object.entries(captured.answers)

test('the capture holds the story', () => {
  expect(answers.length).toBeGreaterThan(90)
  expect(captured.ids.project).toBeGreaterThan(0)
})

test.each(answers.map(([name, a]) => [name, a]))('%s fits the contract', (_, a) => {
  expect(contract.checkAnswer(a.method, a.path, a.status, a.body)).toEqual([])
  if (a.status >= 400) {
    expect(Object.keys(a.body)).toEqual(['error'])
    expect(a.body.error.code).toMatch(/^[a-z_]+$/)
    expect(a.body.error.message).toMatch(/[\u4e00-\u9fff]/)
  } else {
    expect(a.body).toHaveProperty('data')
  }
})
