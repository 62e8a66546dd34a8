// The door-visit list: flats of a consultation's roll with no counted ballot, grouped by building
// and unit, each with the owner's masked name and phone. The backend never answers a full phone
// number, so there is nothing to dial from here: the grid worker calls through the grid's own
// address book (a masked number passed to wx.makePhoneCall would ring no one).
const largeType = require('../../../behaviors/large-type')
const consultations = require('../../../services/consultations')
const { decoded, splitRoom } = require('../../../utils/format')

function group(flats) {
  const groups = []
  const byName = {}
  for (const f of flats) {
    const place = splitRoom(f.room)
    const name = place.building + place.unit || '其他'
    let g = byName[name]
    if (!g) {
      g = byName[name] = { name, flats: [] }
      groups.push(g)
    }
    g.flats.push({
      id: f.flat_id,
      room: place.room || f.room,
      detail: `${f.floor} 层 · ${f.area} m²`,
      developer: f.developer_held,
      unreachable: !!f.unreachable,
      owner: f.owner ? f.owner.name : '',
      phone: f.owner ? f.owner.phone : '',
    })
  }
  return groups.map((g) => ({ ...g, count: `${g.name}：未表决 ${g.flats.length} 户` }))
}

Component({
  behaviors: [largeType.behavior],
  data: {
    state: 'loading',
    message: '',
    id: null,
    title: '',
    total: '',
    groups: [],
  },
  methods: {
    onLoad(options) {
      const title = decoded(options.title)
      this.setData({ id: Number(options.id), title })
      if (title) wx.setNavigationBarTitle({ title: '上门 · ' + title })
      this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ state: 'loading', message: '' })
      try {
        const flats = await consultations.pendingFlats(this.data.id)
        this.setData({
          groups: group(flats),
          total: `共 ${flats.length} 户未表决`,
          state: flats.length ? 'ready' : 'empty',
          message: '✓ 您范围内的住户均已表决，无需上门。',
        })
      } catch (error) {
        if (error.code === 'not_open') this.setData({ state: 'empty', message: error.message })
        else this.setData({ state: 'error', message: error.message })
      }
    },
  },
})
