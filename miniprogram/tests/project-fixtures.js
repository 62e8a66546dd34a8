// Issue 12's answers as the backend gave them (tests/fixtures/issue12.json, written by
// tests/fixtures/capture_issue12.py from a scripted run: 阳光里小区's renovation from its needs
// survey to done). Each answer is served as captured, status and body, so what a page reads is
// what the backend sends; tests/setup.js checks each against the OpenAPI document as well.
//   fx.reply(name)        a route handler answering that capture (a fresh copy each time)
//   fx.data(name)         the capture's `data` (a fresh copy), to shape a variant of it
//   fx.request(name)      the body the scripted client sent
//   fx.ids                the ids of the story (project, surveys, flats, reports, defects ...)
const captured = require('./fixtures/issue12.json')

const copy = (value) => JSON.parse(JSON.stringify(value))

function capture(name) {
  const found = captured.answers[name]
  if (!found) throw new Error('no captured answer ' + name)
  return found
}

function reply(name) {
  return () => ({ status: capture(name).status, body: copy(capture(name).body) })
}

function data(name) {
  return copy(capture(name).body.data)
}

function request(name) {
  return copy(capture(name).request)
}

function answer(value, status = 200) {
  return () => ({ status, body: { data: copy(value) } })
}

module.exports = { reply, data, request, answer, capture, ids: captured.ids, names: Object.keys(captured.answers) }
