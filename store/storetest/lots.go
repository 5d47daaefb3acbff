package storetest

// lotTests check that spends take points from lots, soonest expiry first.
var lotTests = []test{}
