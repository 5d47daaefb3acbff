package loyalty

import "context"

// AuthenticateOperator returns the operator whose API key is key. It
// returns ErrUnauthenticated for an unknown key.
func (s *Service) AuthenticateOperator(ctx context.Context, key string) (Operator, error) {
	return authenticateKey(ctx, s, "operator", key, Tx.OperatorByKeyHash, func(o Operator) []byte { return o.KeyHash })
}
