// A handwritten signature: draw with a finger on a 2d canvas, clear, export as base64 PNG (what
// POST /consultations/<id>/ballots takes as `signature`). Triggers `change` with {empty} when it
// goes from empty to signed or back; the page calls toBase64() on the component before submitting.
Component({
  properties: {
    large: { type: Boolean, value: false },
    height: { type: Number, value: 200 }, // px; the width follows the screen
  },
  data: { empty: true },
  lifetimes: {
    ready() {
      this.canvas = null
      this.ctx = null
      this.strokes = 0
      wx.createSelectorQuery().in(this).select('#pad').fields({ node: true, size: true }).exec((res) => {
        const found = res && res[0]
        if (!found || !found.node) return // the pad still records that it was drawn on
        const canvas = found.node
        const ratio = (wx.getWindowInfo ? wx.getWindowInfo().pixelRatio : 2) || 2
        canvas.width = found.width * ratio
        canvas.height = found.height * ratio
        const ctx = canvas.getContext('2d')
        ctx.scale(ratio, ratio)
        this.canvas = canvas
        this.ctx = ctx
        this.size = { width: found.width, height: found.height }
        this.paintBackground()
      })
    },
  },
  methods: {
    // A white background: the PNG reads as ink on paper in the evidence sheet, not on transparency.
    paintBackground() {
      if (!this.ctx) return
      this.ctx.fillStyle = '#ffffff'
      this.ctx.fillRect(0, 0, this.size.width, this.size.height)
      this.ctx.strokeStyle = '#000000'
      this.ctx.lineWidth = 4
      this.ctx.lineCap = 'round'
      this.ctx.lineJoin = 'round'
    },
    point(event) {
      const touch = (event.touches && event.touches[0]) || (event.changedTouches && event.changedTouches[0]) || {}
      // WeChat gives canvas touches x/y relative to the canvas; other hosts give clientX/clientY.
      return { x: touch.x !== undefined ? touch.x : touch.clientX, y: touch.y !== undefined ? touch.y : touch.clientY }
    },
    start(event) {
      const { x, y } = this.point(event)
      this.last = { x, y }
      if (this.ctx) {
        this.ctx.beginPath()
        this.ctx.moveTo(x, y)
      }
    },
    move(event) {
      if (!this.last) return
      const { x, y } = this.point(event)
      if (this.ctx) {
        this.ctx.lineTo(x, y)
        this.ctx.stroke()
        this.ctx.beginPath()
        this.ctx.moveTo(x, y)
      }
      this.last = { x, y }
      this.strokes += 1
      if (this.data.empty) {
        this.setData({ empty: false })
        this.triggerEvent('change', { empty: false })
      }
    },
    end() {
      this.last = null
    },
    clear() {
      if (this.ctx) {
        this.ctx.clearRect(0, 0, this.size.width, this.size.height)
        this.paintBackground()
      }
      this.strokes = 0
      this.last = null
      if (!this.data.empty) {
        this.setData({ empty: true })
        this.triggerEvent('change', { empty: true })
      }
    },
    isEmpty() {
      return this.data.empty
    },
    // The signature as base64 PNG (no data: prefix). Rejects when nothing was drawn.
    toBase64() {
      if (this.data.empty) return Promise.reject(new Error('请先在框内签名'))
      return new Promise((resolve, reject) => {
        wx.canvasToTempFilePath({
          canvas: this.canvas,
          fileType: 'png',
          success: ({ tempFilePath }) => {
            wx.getFileSystemManager().readFile({
              filePath: tempFilePath,
              encoding: 'base64',
              success: ({ data }) => resolve(data),
              fail: () => reject(new Error('签名保存失败，请清除后重新签名')),
            })
          },
          fail: () => reject(new Error('签名保存失败，请清除后重新签名')),
        }, this)
      })
    },
  },
})
