// Evaluation figures (效果评价) for staff: coverage, participation and satisfaction of a node
// ("community:3"), with its children's rows to drill down; the same table as a workbook.
const { request, download } = require('../utils/request')

module.exports = {
  get: (node) => request({ path: '/stats?node=' + encodeURIComponent(node) }),
  workbook: (node) => download('/stats.xlsx?node=' + encodeURIComponent(node)), // → a temporary file path
}
