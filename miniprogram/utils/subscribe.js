// Asking for subscribe-message consent on the taps that matter (signing, pledging). WeChat allows
// wx.requestSubscribeMessage only inside a tap and at most 3 templates at once, and each "允许" is
// one send: so a page loads the templates beforehand (load), and its tap handler calls ask()
// first, synchronously, then goes on with its own action. The consent never holds up or fails
// that action; what was accepted is reported to POST /subscriptions.
const subscriptions = require('../services/subscriptions')

// The templates {name: WeChat template id}, or {} when they cannot be had now.
async function load() {
  try {
    const answer = await subscriptions.list()
    return Object.fromEntries(answer.quotas.map((q) => [q.template, q.template_id]))
  } catch (e) {
    return {}
  }
}

// From a tap: ask for these template names (the first 3 known); resolves to the names accepted.
function ask(templates, names) {
  const wanted = names.filter((n) => templates[n]).slice(0, 3)
  if (!wanted.length) return Promise.resolve([])
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: wanted.map((n) => templates[n]),
      success: (res) => resolve(wanted.filter((n) => res[templates[n]] === 'accept')),
      fail: () => resolve([]),
    })
  }).then((accepted) => {
    if (!accepted.length) return accepted
    return subscriptions.accept(accepted).then(() => accepted, () => accepted)
  })
}

module.exports = { load, ask }
