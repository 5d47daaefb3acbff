package storetest

// lotTxTests check the Tx primitives of lots and holds.
var lotTxTests = []test{}
