// Subscribe messages: the templates (with their WeChat ids) and how many sends of each I allow,
// and telling the backend which ones I just accepted.
const { request } = require('../utils/request')

module.exports = {
  list: () => request({ path: '/subscriptions' }),
  accept: (names) => request({ path: '/subscriptions', method: 'POST', data: { accepted: names } }),
}
