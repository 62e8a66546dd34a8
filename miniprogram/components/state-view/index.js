// Loading, empty and error states with a retry, the same on every page. Shows its slot when ready.
Component({
  options: { multipleSlots: false },
  properties: {
    state: { type: String, value: 'loading' }, // loading | empty | error | ready
    message: { type: String, value: '' }, // the error's Chinese message, or what "empty" means here
    large: { type: Boolean, value: false },
  },
  methods: {
    retry() {
      this.triggerEvent('retry')
    },
  },
})
