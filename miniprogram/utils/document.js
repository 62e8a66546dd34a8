// Opening a document the backend made (a signed agreement PDF, a ledger workbook) in WeChat's
// viewer, from which it can be forwarded or saved. Rejects with an Error in Chinese, ready to show.
const FILE_TYPES = ['pdf', 'xlsx', 'xls', 'docx', 'doc']

// openDocument(fetching, fileType): fetching is a promise of a temporary file path (a service's
// download); resolves once WeChat shows the file.
function openDocument(fetching, fileType) {
  return Promise.resolve(fetching).then((filePath) => new Promise((resolve, reject) => {
    wx.openDocument({
      filePath,
      fileType: FILE_TYPES.includes(fileType) ? fileType : undefined,
      showMenu: true,
      success: () => resolve(filePath),
      fail: () => reject(new Error('文件已下载，但无法打开；请稍后再试，或在电脑上查看')),
    })
  }))
}

module.exports = { openDocument }
