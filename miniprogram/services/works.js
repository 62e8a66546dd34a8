// Works supervision (项目共管) and acceptance (验收): site reports with photos, answered by staff,
// confirmed or reopened by the reporter or a supervisor; the representatives' signed acceptance and
// the defects staff resolve.
const { request, download } = require('../utils/request')

module.exports = {
  // site reports
  reports: (projectId) => request({ path: '/projects/' + projectId + '/reports' }),
  report: (reportId) => request({ path: '/reports/' + reportId }),
  // place: {building_id, unit_id} or {text}; photos: base64 JPEG/PNG, at most 3
  file: (projectId, { text, place, photos }, idempotencyKey) =>
    request({
      path: '/projects/' + projectId + '/reports', method: 'POST', idempotencyKey,
      data: { text, place, photos: photos || [] },
    }),
  photo: (reportId, n) => download('/reports/' + reportId + '/photos/' + n), // n from 1 → a temporary file path
  resolve: (reportId) => request({ path: '/reports/' + reportId + '/resolve', method: 'POST' }),
  reopen: (reportId, reason) => request({ path: '/reports/' + reportId + '/reopen', method: 'POST', data: { reason } }),
  // staff
  answer: (reportId, answer) => request({ path: '/reports/' + reportId + '/answer', method: 'POST', data: { answer } }),
  release: (reportId) => request({ path: '/reports/' + reportId + '/release', method: 'POST' }),
  reject: (reportId, reason) => request({ path: '/reports/' + reportId + '/reject', method: 'POST', data: { reason } }),
  // acceptance
  acceptance: (projectId) => request({ path: '/projects/' + projectId + '/acceptance' }),
  sign: (projectId, { opinion, remarks, defects, signature }, idempotencyKey) =>
    request({
      path: '/projects/' + projectId + '/acceptance', method: 'POST', idempotencyKey,
      data: { opinion, remarks: remarks || '', defects: defects || [], signature },
    }),
  resolveDefect: (defectId, note) => request({ path: '/defects/' + defectId + '/resolve', method: 'POST', data: { note } }),
}
