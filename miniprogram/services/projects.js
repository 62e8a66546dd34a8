// Renovation projects (改造项目): the whole story a compound's residents read, and staff moving a
// project to its next phase (only forward, each on its condition; the backend says why not).
const { request } = require('../utils/request')

module.exports = {
  // resident: the projects of a bound flat's compound
  forFlat: (flatId) => request({ path: '/projects?flat_id=' + flatId }),
  get: (id) => request({ path: '/projects/' + id }),
  // staff
  list: () => request({ path: '/projects' }),
  advance: (id, phase, reason) =>
    request({ path: '/projects/' + id + '/phase', method: 'POST', data: { phase, reason: reason || '' } }),
}
