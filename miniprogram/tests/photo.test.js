// Taking a photo: base64 as the backend takes it, a photo over 3 MB refused in Chinese, a cancel silent.
const { pickPhoto } = require('../utils/photo')

test('a photo comes back as its path and base64', async () => {
  await expect(pickPhoto()).resolves.toEqual({ path: '/tmp/photo.jpg', base64: 'aGVsbG8=' })
})

test('a photo over 3 MB is refused in Chinese and nothing is read', async () => {
  const read = jest.fn()
  wx.chooseMedia = (o) => o.success({ tempFiles: [{ tempFilePath: '/tmp/big.jpg', size: 3 * 1024 * 1024 + 1 }] })
  wx.getFileSystemManager = () => ({ readFile: read })
  await expect(pickPhoto()).rejects.toThrow('照片过大（不超过 3 MB），请换一张')
  expect(read).not.toHaveBeenCalled()
})

test('a cancelled choice rejects with nothing to show', async () => {
  wx.chooseMedia = (o) => o.fail({ errMsg: 'chooseMedia:fail cancel' })
  await expect(pickPhoto()).rejects.toBeNull()
})
