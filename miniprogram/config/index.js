// Where the API answers, per version of the mini-program (WeChat says which one is running).
// develop: the backend of ./scripts/run on the developer's machine; trial and release: the deployment.
const API_BASES = {
  develop: 'http://127.0.0.1:5000/api/v1',
  trial: 'https://gongjian-trial.example.cn/api/v1',
  release: 'https://gongjian.example.cn/api/v1',
}

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'release'
  } catch (e) {
    return 'release'
  }
}

module.exports = {
  apiBase() {
    return API_BASES[envVersion()] || API_BASES.release
  },
  // Plain-QR URLs (QR_MODE=url on the backend) end with the building's scene: https://…/s/<scene>
  sceneUrlPattern: /\/s\/([0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32})\/?$/,
  requestTimeoutMs: 15000,
  networkRetries: 1, // a write that met a network failure is sent once more, with the same Idempotency-Key
}
