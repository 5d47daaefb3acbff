package storetest

// payTests check pay with points: holds, captures and releases.
var payTests = []test{}
