package storetest

// expiryTests check the expiry job.
var expiryTests = []test{}
