// 适老化: the large-type mode, switched on the home page and remembered on the phone. Every page
// uses `largeType.behavior` and puts class "page {{large ? 'large' : ''}}" on its root view.
const KEY = 'gongjian.largeType'

function isLarge() {
  return wx.getStorageSync(KEY) === true
}

function setLarge(on) {
  wx.setStorageSync(KEY, !!on)
}

const behavior = Behavior({
  data: { large: false },
  lifetimes: {
    attached() {
      this.setData({ large: isLarge() })
    },
  },
  pageLifetimes: {
    show() {
      this.setData({ large: isLarge() })
    },
  },
})

module.exports = { behavior, isLarge, setLarge, KEY }
