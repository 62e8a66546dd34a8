// Taking a photo (a paper ballot, an objection's picture) as the backend takes it: base64, at most
// 3 MB (app/services/ballots.py PHOTO_MAX_BYTES). The base64 stays off setData: a photo is far
// larger than a page's data should be.
const PHOTO_MAX_BYTES = 3 * 1024 * 1024

// pickPhoto() → {path, base64}; rejects with an Error whose message is Chinese, ready to show.
function pickPhoto() {
  return new Promise((resolve, reject) => {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      sourceType: ['camera', 'album'],
      sizeType: ['compressed'],
      success: (res) => {
        const file = res.tempFiles[0]
        if (file.size > PHOTO_MAX_BYTES) {
          reject(new Error('照片过大（不超过 3 MB），请换一张'))
          return
        }
        wx.getFileSystemManager().readFile({
          filePath: file.tempFilePath,
          encoding: 'base64',
          success: ({ data }) => resolve({ path: file.tempFilePath, base64: data }),
          fail: () => reject(new Error('读取照片失败，请重新选择')),
        })
      },
      fail: () => reject(null), // the person cancelled: nothing to say
    })
  })
}

module.exports = { pickPhoto, PHOTO_MAX_BYTES }
