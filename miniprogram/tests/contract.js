// The contract between the mini-program and the backend, read from the backend's own OpenAPI
// document (miniprogram/tests/openapi.json, written by scripts/export_openapi.py and checked by the
// backend's tests to equal the live one):
//   operationFor(method, path)  the operation a request reaches, or null;
//   undeclared(value, schema)   where an answer holds a field, or a type, its schema does not declare.
// tests/setup.js checks every answer a test fakes with these, so the fields a page reads (which must
// be in its fixtures for its tests to pass) exist in the backend's answer.
const fs = require('fs')
const path = require('path')

const FILE = path.join(__dirname, 'openapi.json')
const PREFIX = '/api/v1'

let spec = null
function load() {
  if (spec === null) spec = fs.existsSync(FILE) ? JSON.parse(fs.readFileSync(FILE, 'utf8')) : false
  return spec
}

const templates = () =>
  Object.keys(load().paths).map((template) => ({
    template,
    pattern: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  }))

// The operation for a request path (below /api/v1, with or without a query string).
function operationFor(method, requestPath) {
  const doc = load()
  if (!doc) return null
  const [pathOnly, query] = requestPath.split('?')
  const hit = templates().find((t) => t.pattern.test(PREFIX + decodeURI(pathOnly)))
  if (!hit) return null
  const operation = doc.paths[hit.template][method.toLowerCase()]
  if (!operation) return null
  const declared = new Set((operation.parameters || []).filter((p) => p.in === 'query').map((p) => p.name))
  const unknownQuery = query ? query.split('&').map((kv) => kv.split('=')[0]).filter((k) => !declared.has(k)) : []
  return { template: hit.template, operation, unknownQuery }
}

function resolve(schema) {
  let s = schema || {}
  for (let i = 0; i < 20 && s.$ref; i += 1) {
    const name = s.$ref.replace('#/components/schemas/', '')
    s = { ...load().components.schemas[name], nullable: s.nullable || load().components.schemas[name].nullable }
  }
  if (s.allOf && s.allOf.length === 1) return { ...resolve(s.allOf[0]), nullable: s.nullable || undefined }
  return s
}

// A list of problems ("data.flats[0].lable: not declared") of value against schema; [] when it fits.
function undeclared(value, schema, where = 'body') {
  let s = resolve(schema)
  if (Array.isArray(s.type)) {
    // OpenAPI 3.1 spells "nullable" as a type list: ["string", "null"]
    const types = s.type.filter((t) => t !== 'null')
    s = { ...s, type: types.length === 1 ? types[0] : undefined, nullable: s.nullable || types.length < s.type.length }
  }
  if (value === null) return s.nullable || (s.type === undefined && !s.properties) ? [] : [`${where}: null is not allowed`]
  if (s.anyOf || s.oneOf) {
    const options = s.anyOf || s.oneOf
    return options.some((o) => undeclared(value, o, where).length === 0) ? [] : [`${where}: fits none of its schemas`]
  }
  const type = s.type
  if (!type && !s.properties) return [] // free-form: anything goes
  if (type === 'array') {
    if (!Array.isArray(value)) return [`${where}: should be an array`]
    return value.flatMap((item, i) => undeclared(item, s.items, `${where}[${i}]`))
  }
  if (type === 'object' || s.properties) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${where}: should be an object`]
    const problems = []
    const properties = s.properties || {}
    for (const [key, item] of Object.entries(value)) {
      if (key in properties) problems.push(...undeclared(item, properties[key], `${where}.${key}`))
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        problems.push(...undeclared(item, s.additionalProperties, `${where}.${key}`))
      } else if (s.additionalProperties !== true || Object.keys(properties).length) {
        problems.push(`${where}.${key}: not declared by the backend`)
      }
    }
    return problems
  }
  const jsType = Array.isArray(value) ? 'array' : typeof value
  const fits = {
    string: jsType === 'string',
    integer: Number.isInteger(value),
    number: jsType === 'number',
    boolean: jsType === 'boolean',
  }[type]
  return fits === false ? [`${where}: should be ${type}, is ${JSON.stringify(value)}`] : []
}

// Problems of one faked answer: the operation must exist, its query parameters be declared, and
// a 2xx body fit the declared success schema.
function checkAnswer(method, requestPath, status, body) {
  const doc = load()
  if (!doc) return []
  const hit = operationFor(method, requestPath)
  if (!hit) return [`${method} ${requestPath}: no such operation in the backend's OpenAPI document`]
  const problems = hit.unknownQuery.map((k) => `${method} ${requestPath}: query parameter ${k} is not declared`)
  if (status >= 200 && status < 300) {
    const response = hit.operation.responses[String(status)]
    if (!response) return [...problems, `${method} ${hit.template}: status ${status} is not declared`]
    const schema = response.content && response.content['application/json'] && response.content['application/json'].schema
    problems.push(...undeclared(body, schema, `${method} ${hit.template} ${status}`))
  }
  return problems
}

module.exports = { operationFor, undeclared, checkAnswer, load, FILE }
