// The signature pad alone: drawing signs it, clearing empties it, toBase64 gives the PNG's base64.
const { load, settle, simulate } = require('../helpers')

function fakeCanvas() {
  const ctx = {}
  for (const name of ['scale', 'fillRect', 'clearRect', 'beginPath', 'moveTo', 'lineTo', 'stroke']) ctx[name] = jest.fn()
  return { width: 0, height: 0, getContext: jest.fn(() => ctx), ctx }
}

async function renderPad(canvas) {
  if (canvas !== undefined) {
    const query = { in: () => query, select: () => query, fields: () => query, exec: (cb) => cb([{ node: canvas, width: 300, height: 200 }]) }
    jest.spyOn(wx, 'createSelectorQuery').mockReturnValue(query)
  }
  const comp = simulate.render(load('components/signature-pad/index'))
  const changes = []
  comp.addEventListener('change', (event) => changes.push(event.detail))
  comp.attach(document.createElement('parent-wrapper'))
  await settle()
  return { comp, changes }
}

function draw(comp, points) {
  const pad = comp.querySelector('#pad')
  pad.dispatchEvent('touchstart', { touches: [points[0]] })
  for (const p of points.slice(1)) pad.dispatchEvent('touchmove', { touches: [p] })
  pad.dispatchEvent('touchend', {})
  return settle()
}

afterEach(() => jest.restoreAllMocks())

test('starts empty and says where to sign', async () => {
  const { comp } = await renderPad(fakeCanvas())
  expect(comp.instance.data.empty).toBe(true)
  expect(comp.dom.textContent).toContain('请用手指在上面的框内写下您的名字')
})

test('drawing strokes the canvas and marks the pad signed', async () => {
  const canvas = fakeCanvas()
  const { comp, changes } = await renderPad(canvas)
  expect(canvas.getContext).toHaveBeenCalledWith('2d')
  expect(canvas.width).toBeGreaterThan(0)
  await draw(comp, [{ x: 10, y: 60 }, { x: 60, y: 20 }, { x: 110, y: 70 }])
  expect(canvas.ctx.moveTo).toHaveBeenCalledWith(10, 60)
  expect(canvas.ctx.lineTo).toHaveBeenCalledWith(60, 20)
  expect(canvas.ctx.lineTo).toHaveBeenCalledWith(110, 70)
  expect(comp.instance.data.empty).toBe(false)
  expect(changes).toEqual([{ empty: false }]) // told once, not on every move
  expect(comp.dom.textContent).toContain('✓ 已签名')
})

test('a tap without moving is not a signature', async () => {
  const { comp } = await renderPad(fakeCanvas())
  await draw(comp, [{ x: 10, y: 60 }])
  expect(comp.instance.data.empty).toBe(true)
})

test('clear empties the pad and the canvas', async () => {
  const canvas = fakeCanvas()
  const { comp, changes } = await renderPad(canvas)
  await draw(comp, [{ x: 10, y: 60 }, { x: 60, y: 20 }])
  comp.querySelector('.clear').dispatchEvent('tap')
  await settle()
  expect(canvas.ctx.clearRect).toHaveBeenCalledWith(0, 0, 300, 200)
  expect(comp.instance.data.empty).toBe(true)
  expect(changes).toEqual([{ empty: false }, { empty: true }])
  await expect(comp.instance.toBase64()).rejects.toThrow('请先在框内签名')
})

test('toBase64 exports the canvas as PNG and reads it back as base64', async () => {
  const canvas = fakeCanvas()
  const exported = []
  jest.spyOn(wx, 'canvasToTempFilePath').mockImplementation((o) => {
    exported.push(o)
    o.success({ tempFilePath: 'wxfile://tmp/signature.png' })
  })
  const read = []
  jest.spyOn(wx, 'getFileSystemManager').mockReturnValue({
    readFile: (o) => { read.push(o); o.success({ data: 'iVBORw0KGgoAAAANSUhEUg==' }) },
  })
  const { comp } = await renderPad(canvas)
  await draw(comp, [{ x: 10, y: 60 }, { x: 60, y: 20 }])
  await expect(comp.instance.toBase64()).resolves.toBe('iVBORw0KGgoAAAANSUhEUg==')
  expect(exported[0]).toMatchObject({ canvas, fileType: 'png' })
  expect(read[0]).toMatchObject({ filePath: 'wxfile://tmp/signature.png', encoding: 'base64' })
})

test('with the set-up fake (no canvas node) drawing still counts and the fake file system answers', async () => {
  const { comp } = await renderPad()
  await draw(comp, [{ x: 10, y: 60 }, { x: 60, y: 20 }])
  expect(comp.instance.data.empty).toBe(false)
  await expect(comp.instance.toBase64()).resolves.toBe('aGVsbG8=')
})

test('a failed export is a Chinese message', async () => {
  jest.spyOn(wx, 'canvasToTempFilePath').mockImplementation((o) => o.fail({ errMsg: 'canvasToTempFilePath:fail' }))
  const { comp } = await renderPad(fakeCanvas())
  await draw(comp, [{ x: 10, y: 60 }, { x: 60, y: 20 }])
  await expect(comp.instance.toBase64()).rejects.toThrow('签名保存失败，请清除后重新签名')
})

test('in large type its hint and button are large', async () => {
  const comp = simulate.render(load('components/signature-pad/index'), { large: true })
  comp.attach(document.createElement('parent-wrapper'))
  await settle()
  const button = comp.querySelector('.clear')
  const style = window.getComputedStyle(button.dom)
  expect(parseFloat(style.fontSize)).toBeGreaterThanOrEqual(18)
  expect(parseFloat(style.minHeight)).toBeGreaterThanOrEqual(44)
  expect(parseFloat(window.getComputedStyle(comp.querySelector('.pad-state').dom).fontSize)).toBeGreaterThanOrEqual(18)
})
