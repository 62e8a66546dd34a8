// Landing from a building's code: which building this is, then the resident's unit and flat, one
// choice per screen, then the binding form for that flat.
const largeType = require('../../behaviors/large-type')
const config = require('../../config/index')
const bindings = require('../../services/bindings')

function decode(value) {
  try {
    return decodeURIComponent(value)
  } catch (e) {
    return value
  }
}

// The building's scene: from a mini-program code (options.scene), from a plain QR code's URL
// (options.q, ending /s/<scene>), or from a query object passed on.
function sceneFrom(options) {
  if (options.scene) return decode(String(options.scene))
  if (options.q) {
    const match = decode(String(options.q)).match(config.sceneUrlPattern)
    return match ? match[1] : ''
  }
  if (options.query && options.query.scene) return decode(String(options.query.scene))
  return ''
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    building: null, // {id, name, compound: {id, name}}
    units: [], // [{id, name, flats: [{id, room, floor}]}]
    unit: null, // the unit chosen, or null while choosing one
    notFound: false,
  },
  methods: {
    onLoad(options) {
      this.scene = sceneFrom(options || {})
      this.load()
    },
    async load() {
      if (!this.scene) {
        this.setData({ state: 'error', notFound: true, message: '没有读到楼栋二维码，请回到首页重新扫码' })
        return
      }
      this.setData({ state: 'loading', message: '', notFound: false })
      try {
        const answer = await bindings.scan(this.scene)
        const units = answer.units.filter((u) => u.flats.length > 0)
        this.setData({
          building: answer.building,
          units,
          unit: units.length === 1 ? units[0] : null, // one unit: nothing to choose
          state: units.length ? 'ready' : 'empty',
          message: '这栋楼还没有登记房屋，请联系网格员',
        })
      } catch (error) {
        this.setData({ state: 'error', message: error.message, notFound: error.status === 404 })
      }
    },
    chooseUnit(event) {
      this.setData({ unit: this.data.units[event.currentTarget.dataset.index] })
    },
    otherUnit() {
      this.setData({ unit: null })
    },
    chooseFlat(event) {
      const flat = this.data.unit.flats[event.currentTarget.dataset.index]
      const { building, unit } = this.data
      const label = `${building.compound.name} ${building.name}${unit.name}${flat.room}`
      wx.navigateTo({ url: `/pages/bind/index?flat_id=${flat.id}&label=${encodeURIComponent(label)}` })
    },
    goHome() {
      wx.reLaunch({ url: '/pages/index/index' })
    },
  },
})
