// Money as people read and type it: fen shown as "¥1,234.56"; yuan typed turned into fen exactly
// (the decimal text read digit by digit, never a float multiplied), refusals in Chinese.
const { money, yuanText, parseYuan, beijingDate, FEN_MAX } = require('../utils/format')

test.each([
  [123456, '¥1,234.56'],
  [0, '¥0.00'],
  [5, '¥0.05'],
  [6601179, '¥66,011.79'],
  [41000001, '¥410,000.01'],
  [FEN_MAX, '¥21,474,836.47'],
  [-500, '-¥5.00'],
])('%i fen reads %s', (fen, shown) => {
  expect(money(fen)).toBe(shown)
})

test('an amount to edit is plain yuan with two decimals', () => {
  expect(yuanText(6601179)).toBe('66011.79')
  expect(yuanText(10)).toBe('0.10')
  expect(yuanText(0)).toBe('0.00')
})

test.each([
  ['1234.56', 123456],
  ['0.1', 10],
  ['12', 1200],
  ['0.07', 7],
  ['1.005'.slice(0, 4), 100], // "1.00"
  ['19.99', 1999], // 19.99 * 100 is 1998.9999999999998 in floating point
  ['1.15', 115], // 1.15 * 100 is 114.99999999999999
  ['４５．６', 4560], // full-width, as a Chinese keyboard may type it
  ['¥1,234.56', 123456],
  [' 12 元 ', 1200],
  ['21474836.47', FEN_MAX],
])('"%s" yuan is exactly %i fen', (typed, fen) => {
  expect(parseYuan(typed)).toEqual({ fen })
})

test.each([
  ['1.234', '金额最多到分（小数点后两位），例如 1234.56'],
  ['-1', '金额不能为负数'],
  ['abc', '请输入数字金额，例如 1234.56'],
  ['1e3', '请输入数字金额，例如 1234.56'],
  ['1,23', '请输入数字金额，例如 1234.56'],
  ['', '请输入金额'],
  [null, '请输入金额'],
  ['0', '金额应大于 0'],
  ['21474836.48', '金额过大，请核对'],
  ['123456789012', '金额过大，请核对'],
])('"%s" is refused: %s', (typed, message) => {
  expect(parseYuan(typed)).toEqual({ error: message })
})

test('zero is an amount where it is allowed (an exempt item)', () => {
  expect(parseYuan('0', { allowZero: true })).toEqual({ fen: 0 })
})

test('today in Beijing, as the backend takes a calendar day', () => {
  expect(beijingDate(Date.parse('2026-11-27T15:59:59Z'))).toBe('2026-11-27')
  expect(beijingDate(Date.parse('2026-11-27T16:00:00Z'))).toBe('2026-11-28') // midnight in Beijing
})
