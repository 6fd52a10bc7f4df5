package clientapi

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// DefaultBcryptCost is the bcrypt cost of password hashes in production.
const DefaultBcryptCost = 12

// bcryptMaxInput is the most bytes of a password bcrypt looks at.
const bcryptMaxInput = 72

// passwordHasher hashes and checks account passwords with bcrypt.
type passwordHasher struct {
	cost int

	dummyOnce sync.Once
	dummy     []byte // a hash of nothing, to spend the same time on unknown users
}

// newPasswordHasher returns a hasher of the given cost; 0 means
// DefaultBcryptCost.
func newPasswordHasher(cost int) (*passwordHasher, error) {
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("clientapi: bcrypt cost %d out of range [%d, %d]", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &passwordHasher{cost: cost}, nil
}

// bcryptInput maps a password to what bcrypt hashes. bcrypt ignores bytes
// past the 72nd, so a longer password is first reduced to its SHA-256
// (base64, 43 bytes): every byte counts and no length limit is imposed.
func bcryptInput(password string) []byte {
	if len(password) <= bcryptMaxInput {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.RawStdEncoding.EncodeToString(sum[:]))
}

// hash returns the bcrypt hash of password.
func (h *passwordHasher) hash(password string) (string, error) {
	out, err := bcrypt.GenerateFromPassword(bcryptInput(password), h.cost)
	if err != nil {
		return "", fmt.Errorf("clientapi: hash password: %w", err)
	}
	return string(out), nil
}

// check reports whether password matches hash. An empty hash (no password
// set, or a deactivated account) matches nothing, after spending the time a
// real check takes so that timing does not tell accounts apart.
func (h *passwordHasher) check(hash, password string) bool {
	if hash == "" {
		h.dummyOnce.Do(func() {
			h.dummy, _ = bcrypt.GenerateFromPassword([]byte("concord-dummy"), h.cost)
		})
		_ = bcrypt.CompareHashAndPassword(h.dummy, bcryptInput(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), bcryptInput(password)) == nil
}
