package notify

import "slices"

// Forget drops the recorded pushes to tokens, the devices of an erased
// member, and returns how many it dropped.
func (r *Recorder) Forget(tokens []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.pushes)
	r.pushes = slices.DeleteFunc(r.pushes, func(p Push) bool { return slices.Contains(tokens, p.Token) })
	return n - len(r.pushes)
}
